//! [`Work`]: the one shape of a unit of work that `cargo xtask reproduce`
//! plans, caches, claims, shards and reports. A new kind of job is one file
//! that implements it (its key is the job's serialization, its output a
//! serializable result); the generic cache, claim, plan and report pick it
//! up with no other edit. Training runs ([`crate::TrainJob`]) are the one
//! kind outside it: they checkpoint every epoch and are resumed, not
//! recomputed, and the other units need them.

use std::{any::Any, fmt::Debug, sync::Arc};

use candle_core::Device;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use sgbn_data::Dataset;
use sgbn_models::{ConvNet, ModelSpec};

use crate::{Result, TrainJob, TrainedModel, check_cached_result, key_hash};

/// Where a unit of work reads its images.
pub trait DataSource {
    /// The training set of a model with `spec` (MNIST or CIFAR-10).
    fn train_for(&self, spec: &ModelSpec) -> Result<&Dataset>;
    /// The test set of a model with `spec`.
    fn test_for(&self, spec: &ModelSpec) -> Result<&Dataset>;
    /// The MNIST test set (units that need images without a model).
    fn mnist_test(&self) -> &Dataset;
}

/// Where a unit of work gets the trained models it needs.
pub trait ModelSource {
    /// The trained model of `job` (frozen) and the slope of its binary
    /// units; an error when the run is not trained.
    fn load(&self, job: &TrainJob) -> Result<(ConvNet, f64)>;
}

/// What a unit of work runs with.
pub struct WorkInputs<'a> {
    /// Its images.
    pub data: &'a dyn DataSource,
    /// Its trained models.
    pub models: &'a dyn ModelSource,
    /// The device models run on.
    pub device: &'a Device,
}

impl Debug for WorkInputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkInputs")
            .field("device", self.device)
            .finish_non_exhaustive()
    }
}

/// One kind of unit of work: a job whose serialization is its cache key
/// ([`key_hash`]) and whose output is stored as JSON under
/// `<FOLDER>/<stem>-<key>.json`.
pub trait Work: Serialize + Debug + Send + Sync + 'static {
    /// What it computes.
    type Output: Serialize + DeserializeOwned + 'static;
    /// Its stage name: the prefix of its claim file and its row in `--plan`.
    const KIND: &'static str;
    /// The cache folder of its results.
    const FOLDER: &'static str;
    /// What the plan's summary line calls several of them.
    const NOUN: &'static str;
    /// The file name before the key (`<model>-run<r>`).
    fn stem(&self) -> String;
    /// What the progress line says while it runs.
    fn label(&self) -> String;
    /// Its cost in GFLOP, for the progress bar's ETA and the shards.
    fn cost(&self, data: &dyn DataSource) -> Result<f64>;
    /// The training runs it needs finished first.
    fn needs(&self) -> Vec<&TrainJob>;
    /// Computes it.
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<Self::Output>;
    /// Bounds a stored output must meet beyond [`check_cached_result`]'s
    /// (the reason when it does not): an entry that fails is recomputed.
    fn check(&self, _output: &Self::Output) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// A unit of work of any kind ([`Work`] without its types): what the plan,
/// the cache and the runner hold.
pub trait AnyWork: Debug + Send + Sync {
    /// The job itself (to recover its type).
    fn as_any(&self) -> &dyn Any;
    /// [`Work::KIND`].
    fn kind(&self) -> &'static str;
    /// [`Work::FOLDER`].
    fn folder(&self) -> &'static str;
    /// [`Work::NOUN`].
    fn noun(&self) -> &'static str;
    /// [`Work::stem`].
    fn stem(&self) -> String;
    /// [`Work::label`].
    fn label(&self) -> String;
    /// [`Work::cost`].
    fn cost(&self, data: &dyn DataSource) -> Result<f64>;
    /// [`Work::needs`].
    fn needs(&self) -> Vec<&TrainJob>;
    /// Its cache key ([`key_hash`] of the job).
    fn key(&self) -> Result<String>;
    /// Computes it, serialized.
    fn compute_json(&self, inputs: &WorkInputs<'_>) -> Result<Value>;
    /// Whether `stored`, read back under `key`, is a result of this job that
    /// can be trusted (the reason when not).
    fn validate(&self, key: &str, stored: &Value) -> std::result::Result<(), String>;
}

impl<W: Work> AnyWork for W {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn kind(&self) -> &'static str {
        W::KIND
    }
    fn folder(&self) -> &'static str {
        W::FOLDER
    }
    fn noun(&self) -> &'static str {
        W::NOUN
    }
    fn stem(&self) -> String {
        Work::stem(self)
    }
    fn label(&self) -> String {
        Work::label(self)
    }
    fn cost(&self, data: &dyn DataSource) -> Result<f64> {
        Work::cost(self, data)
    }
    fn needs(&self) -> Vec<&TrainJob> {
        Work::needs(self)
    }
    fn key(&self) -> Result<String> {
        key_hash(self)
    }
    fn compute_json(&self, inputs: &WorkInputs<'_>) -> Result<Value> {
        Ok(serde_json::to_value(Work::compute(self, inputs)?)?)
    }
    fn validate(&self, key: &str, stored: &Value) -> std::result::Result<(), String> {
        parse::<W>(self, key, stored).map(drop)
    }
}

/// `stored` as `job`'s output, when it passes [`check_cached_result`] under
/// `key`, parses, and meets [`Work::check`].
fn parse<W: Work>(job: &W, key: &str, stored: &Value) -> std::result::Result<W::Output, String> {
    check_cached_result(stored, key)?;
    let output: W::Output = serde_json::from_value(stored.clone())
        .map_err(|e| format!("not the expected result: {e}"))?;
    job.check(&output)?;
    Ok(output)
}

/// A unit of work with its key, computed once when it is planned.
#[derive(Debug, Clone)]
pub struct Planned {
    /// [`key_hash`] of the job.
    pub key: String,
    /// The job.
    pub work: Arc<dyn AnyWork>,
}

impl Planned {
    /// `work` with its key.
    pub fn new(work: Arc<dyn AnyWork>) -> Result<Self> {
        Ok(Self {
            key: work.key()?,
            work,
        })
    }

    /// The job as a `W`, when it is one.
    pub fn downcast<W: Work>(&self) -> Option<&W> {
        self.work.as_any().downcast_ref()
    }

    /// Its claim name (`<kind>-<key>`).
    pub fn claim(&self) -> String {
        format!("{}-{}", self.work.kind(), self.key)
    }

    /// Its cache file, relative to the cache folder.
    pub fn file(&self) -> std::path::PathBuf {
        std::path::Path::new(self.work.folder()).join(format!(
            "{}-{}.json",
            self.work.stem(),
            self.key
        ))
    }
}

/// Where finished results are looked up: the on-disk cache of `cargo xtask
/// reproduce`, or a map in tests. `None`: not computed (yet).
pub trait Results {
    /// A finished training run.
    fn trained(&self, job: &TrainJob) -> Option<TrainedModel>;
    /// The stored output of `work` (key `key`) as written, unchecked.
    fn stored(&self, work: &dyn AnyWork, key: &str) -> Option<Value>;
}

impl dyn Results + '_ {
    /// The finished output of `job`: `None` when it is not stored, or when
    /// what is stored fails its checks (logged with the reason; the unit is
    /// then recomputed).
    pub fn get<W: Work>(&self, job: &W) -> Option<W::Output> {
        let key = key_hash(job).ok()?;
        let stored = self.stored(job, &key)?;
        parse(job, &key, &stored)
            .map_err(|reason| {
                tracing::warn!(kind = W::KIND, key = %key, %reason, "invalid stored result: recomputing it");
            })
            .ok()
    }
}

/// The file-name stem of a unit about one trained run: `<model>-run<r>`.
pub fn run_stem(model: &TrainJob) -> String {
    format!("{}-run{}", model.model, model.run)
}

/// Runs `run` on the trained model of `model` (evaluation mode at its
/// slope) and its test set: the compute of every unit that measures one
/// model.
pub(crate) fn on_model<T>(
    inputs: &WorkInputs<'_>,
    model: &TrainJob,
    run: impl FnOnce(&ConvNet, f64, &Dataset, &Device) -> Result<T>,
) -> Result<T> {
    let (net, slope) = inputs.models.load(model)?;
    run(
        &net,
        slope,
        inputs.data.test_for(&model.spec)?,
        inputs.device,
    )
}
