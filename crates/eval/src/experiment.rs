//! The [`Experiment`] trait: one thesis figure or table (or one study
//! beyond the thesis) as the jobs it needs and the report section it writes
//! from their results.

use std::{path::Path, sync::Arc};

use serde::de::DeserializeOwned;

use crate::{
    EvalError, Profile, Result, Results, Section, TrainJob,
    work::{AnyWork, Work},
};

/// The CIFAR-10 a plan uses (models of `cifar10-` sizes train and are
/// evaluated on it): its checksums and whether it is the lossy JPEG
/// stand-in, whose results are never compared with the thesis's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CifarInputs {
    /// SHA-256 of each file read (part of every CIFAR-10 training job's key).
    pub sha256: Vec<String>,
    /// The lossy JPEG stand-in, not CIFAR-10.
    pub stand_in: bool,
}

/// What planning needs: the profile and the data's checksums (part of every
/// training job's key).
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The sizes.
    pub profile: &'a Profile,
    /// SHA-256 of each MNIST file.
    pub data: &'a [String],
    /// CIFAR-10, where the selection needs it.
    pub cifar: Option<&'a CifarInputs>,
}

impl PlanContext<'_> {
    /// Run `run` of the named model (a `cifar10-` model on CIFAR-10, which
    /// the context must then hold).
    pub fn train_job(&self, model: &str, run: usize) -> Result<TrainJob> {
        if crate::jobs::is_cifar10(&sgbn_models::ModelSpec::named(model)?) {
            let cifar = self.cifar.ok_or_else(|| {
                EvalError::InvalidConfig(format!(
                    "{model} trains on CIFAR-10, which this run did not load"
                ))
            })?;
            return TrainJob::new(model, run, self.profile, &cifar.sha256);
        }
        TrainJob::new(model, run, self.profile, self.data)
    }
}

/// The jobs of one experiment, in the order they should run: its training
/// runs and its other units of work, of any [`Work`] kind.
#[derive(Debug, Default, Clone)]
pub struct Jobs {
    /// Training runs.
    pub trains: Vec<TrainJob>,
    /// Every other unit of work, in order.
    pub work: Vec<Arc<dyn AnyWork>>,
}

impl Jobs {
    /// Adds one unit of work.
    pub fn add<W: Work>(&mut self, job: W) {
        self.work.push(Arc::new(job));
    }

    /// Adds units of work.
    pub fn extend<W: Work>(&mut self, jobs: impl IntoIterator<Item = W>) {
        for job in jobs {
            self.add(job);
        }
    }

    /// Its units of kind `W`, in order.
    pub fn of<W: Work>(&self) -> Vec<&W> {
        self.work
            .iter()
            .filter_map(|w| w.as_any().downcast_ref())
            .collect()
    }
}

/// What a report section needs.
pub struct ReportContext<'a> {
    /// The sizes the results were computed with.
    pub profile: &'a Profile,
    /// SHA-256 of each MNIST file.
    pub data: &'a [String],
    /// CIFAR-10, where the selection needs it.
    pub cifar: Option<&'a CifarInputs>,
    /// The finished results.
    pub results: &'a dyn Results,
    /// The folder of the thesis's numbers (`data/thesis/`).
    pub thesis_dir: &'a Path,
    /// What the committed thesis-budget measurements say, printed beside a
    /// smaller profile's sections (`None`: nothing is printed).
    pub thesis_budget: Option<&'a crate::ThesisBudgetNotes>,
}

impl std::fmt::Debug for ReportContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportContext")
            .field("profile", &self.profile.name)
            .field("thesis_dir", &self.thesis_dir)
            .finish_non_exhaustive()
    }
}

impl ReportContext<'_> {
    /// The planning context of the same profile and data.
    pub fn plan(&self) -> PlanContext<'_> {
        PlanContext {
            profile: self.profile,
            data: self.data,
            cifar: self.cifar,
        }
    }

    /// The thesis's numbers in `data/thesis/<file>`, parsed.
    pub fn thesis<T: DeserializeOwned>(&self, file: &str) -> Result<T> {
        let path = self.thesis_dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| EvalError::ThesisData {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| EvalError::ThesisData {
            path,
            reason: e.to_string(),
        })
    }
}

/// What names an experiment and places it in the thesis.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentInfo {
    /// Its id on the command line and in the report (`fig4.3`).
    pub id: &'static str,
    /// One line saying what it shows.
    pub title: &'static str,
    /// Where in the thesis (or the literature) it comes from.
    pub reference: &'static str,
    /// The models it uses ([`sgbn_models::ModelSpec::named`] names).
    pub models: &'static [&'static str],
    /// Whether `smoke` and `quick` run it by default (`full` runs every
    /// experiment; `--only` picks any).
    pub default_set: bool,
}

impl ExperimentInfo {
    /// Its models that sgbn builds ([`crate::available`]), in order.
    pub fn built_models(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.models.iter().copied().filter(|m| crate::available(m))
    }

    /// Whether its models are CIFAR-10 models (the `cifar10-` sizes, which
    /// train and are evaluated on CIFAR-10 with the profile's CIFAR-10
    /// sizes).
    pub fn on_cifar10(&self) -> bool {
        !self.models.is_empty() && self.models.iter().all(|m| m.starts_with("cifar10-"))
    }
}

/// One experiment: a thesis figure or table, or a study beyond the thesis.
///
/// Implementations live one per file in [`crate::experiments`] and are
/// listed in its registry; see docs/ARCHITECTURE.md, "How to add an
/// experiment".
pub trait Experiment: Sync {
    /// Its names and place.
    fn info(&self) -> &ExperimentInfo;
    /// Its id ([`ExperimentInfo::id`]).
    fn id(&self) -> &'static str {
        self.info().id
    }
    /// Its title ([`ExperimentInfo::title`]).
    fn title(&self) -> &'static str {
        self.info().title
    }
    /// Its reference ([`ExperimentInfo::reference`]).
    fn reference(&self) -> &'static str {
        self.info().reference
    }
    /// Its models ([`ExperimentInfo::models`]).
    fn models(&self) -> &'static [&'static str] {
        self.info().models
    }
    /// Whether it is in the default set ([`ExperimentInfo::default_set`]).
    fn in_default_set(&self) -> bool {
        self.info().default_set
    }
    /// The jobs it needs under a profile.
    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs>;
    /// Its report section, from whatever results are finished.
    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section>;
}

impl std::fmt::Debug for dyn Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Experiment({})", self.id())
    }
}
