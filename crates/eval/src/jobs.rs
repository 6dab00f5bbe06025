//! The units of work of a reproduction, each identified by its whole
//! configuration ([`key_hash`](crate::key_hash) of its JSON): a training
//! run, a white-box evaluation, a clean check, a transfer set. They say how
//! to compute themselves from loaded models and data; where results are kept
//! is the caller's business (`cargo xtask reproduce` caches them on disk).

use std::path::Path;

use candle_core::Device;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_attacks::{EvalClassifier, Victim, attack_dataset, predict_dataset};
use sgbn_data::Dataset;
use sgbn_defenses::{EarlyStopping, EpochLog, Quiet, TrainConfig, train};
use sgbn_estimators::SeededRng;
use sgbn_metrics::{RepeatedAccuracy, SanityEvidence};
use sgbn_models::{Checkpoint, Classifier, ConvNet, ModelSpec};

use crate::{
    AttackSpec, CleanConfig, EvalConfig, EvalResult, MaskingPoint, Profile, RESULTS_VERSION,
    Result, clean_check, evaluate_model, key_hash, masking_check,
    work::{DataSource, Work, WorkInputs, on_model, run_stem},
};

/// Images per batch in every job's attacks and passes.
pub const JOB_BATCH: usize = 100;

/// What identifies a trained model.
#[derive(Debug, Clone, Serialize)]
pub struct TrainJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model's name ([`ModelSpec::named`]).
    pub model: String,
    /// Its spec, with the profile's adversarial-training sizes.
    pub spec: ModelSpec,
    /// Training settings (seed = run).
    pub config: TrainConfig,
    /// Training images (`None`: all).
    pub train_size: Option<usize>,
    /// Held-out images for early stopping.
    pub validation_size: usize,
    /// SHA-256 of the data files.
    pub data_sha256: Vec<String>,
    /// Run index.
    pub run: usize,
    /// For a gate probe: the trained model whose frozen gates it reads
    /// (not serialized when absent, so other keys are unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Box<TrainJob>>,
}

/// Whether `spec` takes CIFAR-10's 32 × 32 RGB images (the `cifar10-`
/// models) rather than MNIST's.
pub fn is_cifar10(spec: &ModelSpec) -> bool {
    spec.input == [3, 32, 32]
}

/// The learning rate of a gate probe's head: 1e-3 on the first gate, 1e-4
/// on the second (Tables 4.5, 4.6).
pub const PROBE_LR: [f64; 2] = [1e-3, 1e-4];

impl TrainJob {
    /// Run `run` of the named model under `profile`, on the data with these
    /// checksums.
    ///
    /// A gate probe (`1st-gm`, `2nd-gm`, `1w-…`) gets its base (`sgbn` or
    /// `1w-sgbn`, the same run) and the recipe of Tables 4.5–4.6: Adam at
    /// [`PROBE_LR`], [`Profile::probe_epochs`] epochs, no early stopping.
    pub fn new(model: &str, run: usize, profile: &Profile, data: &[String]) -> Result<Self> {
        let mut spec = ModelSpec::named(model)?;
        if let Some(probe) = spec.probe {
            let base_name = if model.to_ascii_lowercase().starts_with("1w-") {
                "1w-sgbn"
            } else {
                "sgbn"
            };
            let base = Self::new(base_name, run, profile, data)?;
            let mut config = TrainConfig {
                epochs: profile.probe_epochs,
                batch_size: profile.batch_size,
                early_stopping: None,
                seed: run as u64,
                ..TrainConfig::default()
            }
            .with_recipe_of(&spec);
            config.adam.lr = PROBE_LR[probe.gate.min(1)];
            return Ok(Self {
                base: Some(Box::new(base)),
                ..Self::custom(model, spec, config, (profile.train_size, 0), run, data)
            });
        }
        if let Some(adv) = spec.adversarial_training.as_mut() {
            adv.steps = profile.pgd_train_steps;
            adv.last_epochs = profile.pgd_train_epochs;
        }
        // CIFAR-10 models: the profile's CIFAR-10 sizes (§4.3.1: 40 epochs
        // of batch 128; no early stopping is described for them).
        let cifar = is_cifar10(&spec);
        let config = TrainConfig {
            epochs: if cifar {
                profile.cifar_epochs
            } else {
                profile.epochs
            },
            batch_size: if cifar {
                profile.cifar_batch_size
            } else {
                profile.batch_size
            },
            early_stopping: (!cifar && profile.validation_size > 0)
                .then_some(EarlyStopping::epochs(profile.patience)),
            seed: run as u64,
            ..TrainConfig::default()
        }
        .with_recipe_of(&spec);
        Ok(Self {
            version: RESULTS_VERSION,
            model: model.into(),
            spec,
            config,
            train_size: if cifar {
                profile.cifar_train_size
            } else {
                profile.train_size
            },
            validation_size: if cifar { 0 } else { profile.validation_size },
            data_sha256: data.to_vec(),
            run,
            base: None,
        })
    }

    /// A job for a model that is not a named one as it is: `id` names it in
    /// the cache and the report (e.g. `ch3-cnn-l1-0.01`), `spec` and
    /// `config` say everything else (and make the key).
    pub fn custom(
        id: &str,
        spec: ModelSpec,
        config: TrainConfig,
        sizes: (Option<usize>, usize),
        run: usize,
        data: &[String],
    ) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: id.into(),
            spec,
            config,
            train_size: sizes.0,
            validation_size: sizes.1,
            data_sha256: data.to_vec(),
            run,
            base: None,
        }
    }

    /// The images it trains on, of `available` training images.
    pub fn images(&self, available: usize) -> usize {
        self.train_size
            .unwrap_or(available)
            .min(available)
            .saturating_sub(self.validation_size)
    }

    /// The training images of the run (its share of `train_set` less the
    /// held-out ones) and the held-out validation images, if any.
    pub fn split(&self, train_set: &Dataset) -> Result<(Dataset, Option<Dataset>)> {
        let data = match self.train_size {
            Some(n) => train_set.first(n)?,
            None => train_set.clone(),
        };
        Ok(if self.validation_size > 0 {
            let (t, v) = data.split_validation(self.validation_size, self.run as u64)?;
            (t, Some(v))
        } else {
            (data, None)
        })
    }

    /// Training cost in GFLOP, for progress estimates: a training step per
    /// image and epoch, plus, in the epochs with PGD, its steps (a forward
    /// and an input-gradient pass each, 2 × forward) and the training step
    /// on the adversarial batch.
    pub fn cost(&self, train_images: usize) -> f64 {
        let images = train_images as f64;
        let step = self.spec.training_step_flops(1) as f64;
        let mut flops = step * images * self.config.epochs as f64;
        if let Some(adv) = &self.spec.adversarial_training {
            let epochs = adv.last_epochs.min(self.config.epochs) as f64;
            let forward = self.spec.forward_flops().total() as f64;
            flops += epochs * images * (2.0 * forward * adv.steps as f64 + step);
        }
        flops / 1e9
    }

    /// Trains (or resumes from `checkpoint`, written after every epoch) on
    /// the job's share of `train_set`; a gate probe starts from its base's
    /// trained checkpoint `base` (required for a probe, refused otherwise).
    pub fn train(
        &self,
        train_set: &Dataset,
        checkpoint: &Path,
        base: Option<&Path>,
        device: &Device,
    ) -> Result<TrainedModel> {
        let start = std::time::Instant::now();
        let (data, validation) = self.split(train_set)?;
        let model = ConvNet::new(&self.spec, self.run as u64, device)?;
        match (self.spec.probe.is_some(), base) {
            (true, Some(path)) => model.load_probe_base(&Checkpoint::read(path, device)?)?,
            (true, None) => {
                return Err(crate::EvalError::InvalidConfig(format!(
                    "{} is a gate probe: it needs its base's trained checkpoint",
                    self.model
                )));
            }
            (false, Some(path)) => {
                return Err(crate::EvalError::InvalidConfig(format!(
                    "{} is not a gate probe, yet a base checkpoint {} was given",
                    self.model,
                    path.display()
                )));
            }
            (false, None) => {}
        }
        let report = train(
            &model,
            &data,
            validation.as_ref(),
            &self.config,
            Some(checkpoint),
            &mut Quiet,
        )?;
        Ok(TrainedModel {
            model: self.model.clone(),
            run: self.run,
            slope: report.final_slope,
            epochs: report.epochs.len(),
            stopped_early: report.stopped_early,
            seconds: start.elapsed().as_secs_f64(),
            log: report.epochs,
        })
    }
}

/// The outcome of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    /// The model's name.
    pub model: String,
    /// Run index.
    pub run: usize,
    /// The slope of its binary units at the end.
    pub slope: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Whether early stopping ended it.
    pub stopped_early: bool,
    /// Wall time of the process that finished the run, seconds (a run
    /// resumed from its epoch checkpoint does not count the earlier ones).
    pub seconds: f64,
    /// Every epoch's log line (absent from runs cached before it was kept).
    #[serde(default)]
    pub log: Vec<EpochLog>,
}

/// The test images at `indices`, on `device`; an index past the end is an
/// error naming it.
pub(crate) fn chosen_test_images(
    test: &Dataset,
    indices: &[usize],
    device: &Device,
) -> Result<Dataset> {
    if let Some(bad) = indices.iter().find(|i| **i >= test.len()) {
        return Err(crate::EvalError::InvalidConfig(format!(
            "test image {bad} asked for; the test set has {}",
            test.len()
        )));
    }
    Ok(test.select(indices)?.to_device(device)?)
}

/// The first `n` test images (at most all), on `device`.
fn test_slice(test: &Dataset, n: usize, device: &Device) -> Result<Dataset> {
    Ok(test.first(n.min(test.len()))?.to_device(device)?)
}

/// A white-box evaluation of one trained model: [`evaluate`](crate::evaluate) with the job's
/// attack, the run as the attack's seed, and a generator whose stream is the
/// job's key (so every job draws its own randomness, whatever runs before).
#[derive(Debug, Clone, Serialize)]
pub struct EvalJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model evaluated.
    pub model: TrainJob,
    /// The attack.
    pub attack: AttackSpec,
    /// The first this many test images.
    pub test_size: usize,
    /// Passes over the adversarial images whose accuracy is averaged.
    pub repeats: usize,
    /// Bins of the histogram of the true class's confidence on the
    /// adversarial images ([`EvalConfig::confidence_bins`]); not serialized
    /// when absent, so keys made before it existed stay valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_bins: Option<usize>,
}

impl EvalJob {
    /// An evaluation of `model` with `attack` on `test_size` images.
    pub fn new(model: &TrainJob, attack: AttackSpec, test_size: usize, repeats: usize) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.clone(),
            attack,
            test_size,
            repeats,
            confidence_bins: None,
        }
    }

    /// The same evaluation, also measuring the histogram of the true class's
    /// confidence on the adversarial images in `bins` bins.
    pub fn with_confidence_histogram(mut self, bins: usize) -> Self {
        self.confidence_bins = Some(bins);
        self
    }

    /// Cost in GFLOP, for progress estimates.
    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * self.test_size as f64
            * (self.attack.passes() + self.repeats as f64)
            / 1e9
    }

    /// Runs it on the trained model of [`Self::model`] (in evaluation mode
    /// at `slope`, with the attack's BPDA).
    pub fn run(
        &self,
        model: &dyn Classifier,
        slope: f64,
        test: &Dataset,
        device: &Device,
    ) -> Result<EvalResult> {
        let test = test_slice(test, self.test_size, device)?;
        let seed = self.model.run as u64;
        let mut rng = SeededRng::seed_from_u64(0x5eed ^ seed);
        rng.set_stream(u64::from_str_radix(&key_hash(self)?, 16).unwrap_or(0));
        let config = EvalConfig {
            batch_size: JOB_BATCH,
            repeats: self.repeats,
            attack_seed: seed,
            confidence_bins: self.confidence_bins,
        };
        evaluate_model(
            model,
            slope,
            &self.attack,
            &config,
            test.images(),
            test.labels(),
            &mut rng,
            &mut |_, _| {},
        )
    }
}

/// Clean accuracy over repeated passes and input-gradient statistics of one
/// trained model ([`clean_check`]), kept as the figures the sanity flags
/// need.
#[derive(Debug, Clone, Serialize)]
pub struct CleanJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model checked.
    pub model: TrainJob,
    /// The first this many test images.
    pub test_size: usize,
    /// Clean passes.
    pub repeats: usize,
}

/// The outcome of a [`CleanJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanResult {
    /// Clean accuracy over the passes.
    pub repeated: RepeatedAccuracy,
    /// Share of examples whose input gradient is exactly zero.
    pub zero_gradient_examples: f64,
    /// Non-finite input-gradient components.
    pub non_finite_gradients: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl CleanResult {
    /// The evidence for the sanity flags.
    pub fn evidence(&self) -> SanityEvidence {
        SanityEvidence {
            unstable_fraction: Some(self.repeated.unstable_fraction),
            zero_gradient_examples: Some(self.zero_gradient_examples),
            non_finite_gradients: Some(self.non_finite_gradients),
            ..SanityEvidence::default()
        }
    }
}

impl CleanJob {
    /// A clean check of `model` on `test_size` images with `repeats` passes.
    pub fn new(model: &TrainJob, test_size: usize, repeats: usize) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.clone(),
            test_size,
            repeats,
        }
    }

    /// Cost in GFLOP, for progress estimates.
    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * self.test_size as f64
            * (self.repeats as f64 + 3.0)
            / 1e9
    }

    /// Runs it on `victim`.
    pub fn run(&self, victim: &dyn Victim, test: &Dataset, device: &Device) -> Result<CleanResult> {
        let test = test_slice(test, self.test_size, device)?;
        let mut rng = SeededRng::seed_from_u64(0xc1ea ^ self.model.run as u64);
        let config = CleanConfig {
            repeats: self.repeats,
            eot: 1,
            batch_size: JOB_BATCH,
        };
        let check = clean_check(victim, test.images(), test.labels(), &config, &mut rng)?;
        let evidence = check.evidence();
        Ok(CleanResult {
            repeated: check.repeated,
            zero_gradient_examples: evidence.zero_gradient_examples.unwrap_or(0.0),
            non_finite_gradients: evidence.non_finite_gradients.unwrap_or(0),
            seconds: check.seconds,
        })
    }
}

/// FGSM examples crafted on one source model (white box), then classified
/// by each target (black box for every other model).
#[derive(Debug, Clone, Serialize)]
pub struct TransferJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model the examples are crafted on.
    pub source: TrainJob,
    /// The models that classify them.
    pub targets: Vec<TrainJob>,
    /// FGSM budget.
    pub eps: f64,
    /// The first this many test images.
    pub test_size: usize,
    /// Gated models that classify them with their gate masks shuffled
    /// among the batch (§4.6.4, Fig. 4.24), reported as `<model>-shuffled`
    /// (not serialized when empty, so other keys are unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shuffled_targets: Vec<TrainJob>,
}

/// The suffix that names a target classified with shuffled gate masks.
pub const SHUFFLED_SUFFIX: &str = "-shuffled";

/// The outcome of a [`TransferJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferResult {
    /// Target model name → accuracy on the source's examples.
    pub accuracy: Vec<(String, f64)>,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Loads a trained model (and the slope of its binary units) for a job.
pub type ModelLoader<'a> = dyn FnMut(&TrainJob) -> Result<(ConvNet, f64)> + 'a;

impl TransferJob {
    /// Cost in GFLOP, for progress estimates.
    pub fn cost(&self) -> f64 {
        let f = |j: &TrainJob| j.spec.forward_flops().total() as f64;
        (3.0 * f(&self.source)
            + self
                .targets
                .iter()
                .chain(&self.shuffled_targets)
                .map(f)
                .sum::<f64>())
            * self.test_size as f64
            / 1e9
    }

    /// Runs it, loading the source and then each target (one model in
    /// memory at a time) through `load`.
    pub fn run(
        &self,
        load: &mut ModelLoader<'_>,
        test: &Dataset,
        device: &Device,
    ) -> Result<TransferResult> {
        let start = std::time::Instant::now();
        let test = test_slice(test, self.test_size, device)?;
        let labels: Vec<u32> = test.labels().to_vec1()?;
        let (source, slope) = load(&self.source)?;
        let mut rng = SeededRng::seed_from_u64(0x7a5f ^ self.source.run as u64);
        let attack = AttackSpec::fgsm(self.eps).build(self.source.run as u64)?;
        let crafted = attack_dataset(
            attack.as_ref(),
            &EvalClassifier::new(&source, slope),
            test.images(),
            test.labels(),
            JOB_BATCH,
            &mut rng,
        )?;
        drop(source);
        let mut accuracy = Vec::new();
        let plain = self.targets.iter().map(|t| (t, false));
        let shuffled = self.shuffled_targets.iter().map(|t| (t, true));
        for (target, shuffle) in plain.chain(shuffled) {
            let (model, slope) = load(target)?;
            let victim = EvalClassifier::new(&model, slope);
            let victim = if shuffle {
                victim.with_shuffled_gate_masks()
            } else {
                victim
            };
            let pred = predict_dataset(&victim, &crafted.adversarial, JOB_BATCH, &mut rng)?;
            let correct = pred.iter().zip(&labels).filter(|(p, y)| p == y).count();
            let name = if shuffle {
                format!("{}{SHUFFLED_SUFFIX}", target.model)
            } else {
                target.model.clone()
            };
            accuracy.push((name, correct as f64 / labels.len().max(1) as f64));
        }
        Ok(TransferResult {
            accuracy,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// The masking evidence of one trained model ([`masking_check`]) at the
/// clean images and FGSM examples of each ε.
#[derive(Debug, Clone, Serialize)]
pub struct MaskingJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model measured.
    pub model: TrainJob,
    /// FGSM budgets (0: clean).
    pub eps: Vec<f64>,
    /// The first this many test images.
    pub test_size: usize,
}

/// The outcome of a [`MaskingJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskingResult {
    /// One point per ε.
    pub points: Vec<MaskingPoint>,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl MaskingJob {
    /// Cost in GFLOP, for progress estimates.
    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * self.test_size as f64
            * 7.0
            * self.eps.len() as f64
            / 1e9
    }

    /// Runs it on the trained model (evaluation mode at `slope`).
    pub fn run(
        &self,
        model: &dyn Classifier,
        slope: f64,
        test: &Dataset,
        device: &Device,
    ) -> Result<MaskingResult> {
        let start = std::time::Instant::now();
        let test = test_slice(test, self.test_size, device)?;
        let mut rng = SeededRng::seed_from_u64(0x3a5c ^ self.model.run as u64);
        let points = masking_check(
            model,
            slope,
            test.images(),
            test.labels(),
            &self.eps,
            JOB_BATCH,
            &mut rng,
        )?;
        Ok(MaskingResult {
            points,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

impl Work for EvalJob {
    type Output = EvalResult;
    const KIND: &'static str = "eval";
    const FOLDER: &'static str = "evals";
    const NOUN: &'static str = "white-box evaluations";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!(
            "{} run {}: {:?}",
            self.model.model, self.model.run, self.attack
        )
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<EvalResult> {
        on_model(inputs, &self.model, |m, s, test, d| self.run(m, s, test, d))
    }
    /// No image moved further than its ε, and no more images counted than
    /// the job asks for.
    fn check(&self, r: &EvalResult) -> std::result::Result<(), String> {
        let eps = self.attack.eps();
        let max_linf = r.cost.map_or(0.0, |c| c.max_linf);
        if max_linf > eps + 1e-6 {
            return Err(format!(
                "cost.max_linf = {max_linf} is above the attack's ε = {eps}"
            ));
        }
        if r.total > self.test_size {
            return Err(format!(
                "total = {} images, more than the job's {}",
                r.total, self.test_size
            ));
        }
        Ok(())
    }
}

impl Work for CleanJob {
    type Output = CleanResult;
    const KIND: &'static str = "clean";
    const FOLDER: &'static str = "clean";
    const NOUN: &'static str = "clean checks";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!("clean passes {} run {}", self.model.model, self.model.run)
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<CleanResult> {
        on_model(inputs, &self.model, |m, s, test, d| {
            self.run(&EvalClassifier::new(m, s), test, d)
        })
    }
}

impl Work for TransferJob {
    type Output = TransferResult;
    const KIND: &'static str = "transfer";
    const FOLDER: &'static str = "transfer";
    const NOUN: &'static str = "transfer sets";
    fn stem(&self) -> String {
        run_stem(&self.source)
    }
    fn label(&self) -> String {
        format!(
            "transfer from {} run {}",
            self.source.model, self.source.run
        )
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        std::iter::once(&self.source).chain(&self.targets).collect()
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<TransferResult> {
        let mut load = |j: &TrainJob| inputs.models.load(j);
        self.run(
            &mut load,
            inputs.data.test_for(&self.source.spec)?,
            inputs.device,
        )
    }
}

impl Work for MaskingJob {
    type Output = MaskingResult;
    const KIND: &'static str = "masking";
    const FOLDER: &'static str = "masking";
    const NOUN: &'static str = "masking checks";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!("masking check {} run {}", self.model.model, self.model.run)
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<MaskingResult> {
        on_model(inputs, &self.model, |m, s, test, d| self.run(m, s, test, d))
    }
}
