//! Supervised training with Adam, slope annealing, early stopping, per-epoch
//! atomic checkpoints and exact resume (thesis §4.3.1).

use std::{collections::BTreeMap, ops::ControlFlow, path::Path, time::Instant};

use candle_core::{DType, Tensor};
use rand::SeedableRng;
use sgbn_data::{Dataset, MiniBatches};
use sgbn_estimators::{ReinforceBaseline, ReinforceBaselineConfig, SeededRng, SlopeSchedule};
use sgbn_models::{
    Checkpoint, Classifier, ForwardContext, accuracy, count_correct, cross_entropy_per_example,
    save_checkpoint_with,
};

use crate::{Adam, AdamConfig, Result, TrainError, pgd_training_examples};

/// Early stopping on the held-out validation images. The thesis says only
/// "early stopping" (§4.3.1); [`EarlyStoppingRule`] says which rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EarlyStopping {
    /// How many checks without improvement the rule tolerates (see
    /// [`EarlyStoppingRule`] for what a check is and when it stops).
    pub patience: usize,
    /// Which rule (not serialized at its default, so the keys of runs
    /// made before the field existed stay valid).
    #[serde(default, skip_serializing_if = "EarlyStoppingRule::is_default")]
    pub rule: EarlyStoppingRule,
}

impl EarlyStopping {
    /// Our rule ([`EarlyStoppingRule::EpochAccuracy`]) with this patience.
    pub fn epochs(patience: usize) -> Self {
        Self {
            patience,
            rule: EarlyStoppingRule::EpochAccuracy,
        }
    }

    /// The rule of the authors' TF code ([`EarlyStoppingRule::authors`],
    /// patience 3).
    pub fn authors() -> Self {
        Self {
            patience: 3,
            rule: EarlyStoppingRule::authors(),
        }
    }
}

/// When training stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EarlyStoppingRule {
    /// Ours (the default): after every epoch, the accuracy on all validation
    /// images; stop when the best lies `patience` or more epochs back. The
    /// weights of the last epoch are kept.
    #[default]
    EpochAccuracy,
    /// The rule of the authors' TF script (`ykubo82/SGBN`): after training
    /// step `i` (0-based) with `i % every == 0` and `i >= after`, the mean
    /// cross-entropy on the next `batch` validation images (in order,
    /// wrapping round, as TF's `next_batch`); a check whose loss is lower
    /// than the best so far resets a counter, any other increments it, and
    /// training stops at once when the counter exceeds `patience` (so after
    /// `patience + 1` checks without improvement). The weights at the stop
    /// are kept. The script checks the *test* images (every 100 steps, from
    /// step 19,000, batches of 500, patience 3); we check held-out training
    /// images instead, so that no test image decides when to stop.
    StepLoss {
        /// Steps between checks (script: 100).
        every: u64,
        /// First step that may be checked (script: 19,000).
        after: u64,
        /// Images per check (script: 500).
        batch: usize,
    },
}

impl EarlyStoppingRule {
    /// The authors' settings: every 100 steps from step 19,000, batches of 500.
    pub fn authors() -> Self {
        Self::StepLoss {
            every: 100,
            after: 19_000,
            batch: 500,
        }
    }

    /// Whether this is the default rule.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// What a training run does. Thesis (§4.3.1): Adam with learning rate 1e-3,
/// batch 50, up to 25 epochs with early stopping, slope `min(5, 1 + 0.04·epoch)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// Number of epochs (an upper bound with early stopping).
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Optimizer settings.
    pub adam: AdamConfig,
    /// Slope schedule of the soft-STE units (per epoch; see `SlopeSchedule`).
    pub slope: SlopeSchedule,
    /// Early stopping; needs a validation set.
    pub early_stopping: Option<EarlyStopping>,
    /// L1 penalty on weights (eq. 2.9, n = 1), 0 for none.
    pub l1: f64,
    /// L2 penalty on weights (eq. 2.9, n = 2), 0 for none.
    pub l2: f64,
    /// Seed of the batch order and of every stochastic unit.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 25,
            batch_size: 50,
            adam: AdamConfig::default(),
            slope: SlopeSchedule::thesis(),
            early_stopping: Some(EarlyStopping::epochs(3)),
            l1: 0.0,
            l2: 0.0,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// The same settings with what the model's recipe fixes: its slope
    /// schedule ([`ModelSpec::slope_schedule`](sgbn_models::ModelSpec), the
    /// authors'-code models' ×1.04 every 1,000 iterations).
    pub fn with_recipe_of(mut self, spec: &sgbn_models::ModelSpec) -> Self {
        if let Some(schedule) = spec.slope_schedule {
            self.slope = schedule;
        }
        self
    }
}

/// One epoch's log line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochLog {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Mean training loss (cross-entropy plus penalties).
    pub train_loss: f64,
    /// Accuracy of the training forward passes during the epoch.
    pub train_accuracy: f64,
    /// Validation accuracy after the epoch (evaluation mode).
    pub validation_accuracy: Option<f64>,
    /// Slope used in the epoch.
    pub slope: f64,
    /// Wall time of the epoch. Never serialized: a checkpoint or a metrics
    /// file of the same seed and command is byte-identical from run to run,
    /// so timings live in their own files (`timings.json` of `cargo xtask
    /// train`); 0 for epochs read back from a file.
    #[serde(default, skip_serializing)]
    pub seconds: f64,
}

/// The result of a training run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// Every finished epoch, including those of earlier, resumed runs.
    pub epochs: Vec<EpochLog>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Slope of the last epoch (use it for evaluation).
    pub final_slope: f64,
}

/// Receives progress; may ask to stop.
pub trait TrainObserver {
    /// After each batch. `Break` stops training without a checkpoint for the
    /// unfinished epoch ([`TrainError::Interrupted`]).
    fn batch(
        &mut self,
        _epoch: usize,
        _batch: usize,
        _batches: usize,
        _loss: f64,
    ) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// After each finished (and checkpointed) epoch.
    fn epoch(&mut self, _log: &EpochLog) {}
}

/// An observer that does nothing.
#[derive(Debug, Default)]
pub struct Quiet;

impl TrainObserver for Quiet {}

const META_CONFIG: &str = "train.config";
const META_LOG: &str = "train.log";
const META_STEP: &str = "train.adam_step";
const META_STOPPED: &str = "train.stopped_early";
const META_STEP_LOSS: &str = "train.step_loss_check";
const META_BASELINE_NUM: &str = "reinforce.baseline.numerator";
const META_BASELINE_DEN: &str = "reinforce.baseline.denominator";

/// The epoch log saved in a checkpoint written by [`train`] (empty for a
/// checkpoint from elsewhere, which has none); a log that is there but
/// cannot be read is an error, never an empty log.
pub fn checkpoint_log(checkpoint: &Checkpoint) -> Result<Vec<EpochLog>> {
    match checkpoint.metadata.get(META_LOG) {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| TrainError::BadMetadata {
            path: checkpoint.path().to_path_buf(),
            key: META_LOG.into(),
            value: text.chars().take(80).collect(),
            what: format!("a training log ({e})"),
        }),
    }
}

/// The slope a model ended training with (the last epoch's), which attacks
/// and evaluation use; for a checkpoint without a training log, the slope
/// under [`sgbn_models::EVAL_SLOPE_KEY`] (an imported model's); `None`
/// without either. A log or a slope that is there but unreadable, and a
/// slope that is not a finite number > 0, are errors: evaluating at a
/// default slope instead would report a number for another model.
pub fn trained_slope(checkpoint: &Checkpoint) -> Result<Option<f64>> {
    if let Some(last) = checkpoint_log(checkpoint)?.last() {
        return Ok(Some(last.slope));
    }
    let Some(text) = checkpoint.metadata.get(sgbn_models::EVAL_SLOPE_KEY) else {
        return Ok(None);
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
        _ => Err(TrainError::BadMetadata {
            path: checkpoint.path().to_path_buf(),
            key: sgbn_models::EVAL_SLOPE_KEY.into(),
            value: text.chars().take(80).collect(),
            what: "a finite number > 0 (the slope of the binary units at evaluation)".into(),
        }),
    }
}

/// The generator of batch `batch` of `epoch`: a function of the seed and the
/// position only, so a resumed run draws exactly what an uninterrupted one
/// would.
pub fn batch_rng(seed: u64, epoch: usize, batch: u64) -> SeededRng {
    let mut rng = SeededRng::seed_from_u64(seed);
    rng.set_stream(((epoch as u64) << 32) | (batch & 0xffff_ffff));
    rng
}

fn penalties(model: &dyn Classifier, l1: f64, l2: f64) -> Result<Option<Tensor>> {
    if l1 == 0.0 && l2 == 0.0 {
        return Ok(None);
    }
    let mut total: Option<Tensor> = None;
    for (name, var) in model.trainable() {
        if !name.ends_with(".weight") || name.contains("bn") {
            continue;
        }
        let w = var.as_tensor();
        let mut term = (w.abs()?.sum_all()? * l1)?;
        term = (term + (w.sqr()?.sum_all()? * l2)?)?;
        total = Some(match total {
            Some(t) => (t + term)?,
            None => term,
        });
    }
    Ok(total)
}

/// Trains `model` on `train` (and evaluates on `validation` after each
/// epoch). With `checkpoint`, the state after each epoch is written there
/// atomically, and a run finds an existing checkpoint of the same
/// configuration and model and resumes after its last finished epoch.
pub fn train(
    model: &dyn Classifier,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    checkpoint: Option<&Path>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport> {
    config.slope.validate()?;
    if config.batch_size == 0 || train.is_empty() {
        return Err(TrainError::InvalidConfig(
            "batch size and training set must be non-empty".into(),
        ));
    }
    if config.early_stopping.is_some() && validation.is_none() {
        return Err(TrainError::InvalidConfig(
            "early stopping needs a validation set".into(),
        ));
    }
    let mut step_check = match config.early_stopping.map(|e| e.rule) {
        Some(EarlyStoppingRule::StepLoss {
            every,
            after,
            batch,
        }) => {
            if every == 0 || batch == 0 {
                return Err(TrainError::InvalidConfig(format!(
                    "early stopping every {every} steps on {batch} images: both must be at least 1"
                )));
            }
            Some(StepLossCheck::new(every, after, batch))
        }
        _ => None,
    };
    if !(config.l1 >= 0.0 && config.l2 >= 0.0 && config.l1.is_finite() && config.l2.is_finite()) {
        return Err(TrainError::InvalidConfig(format!(
            "penalties l1 {} l2 {}",
            config.l1, config.l2
        )));
    }
    let mut adam = Adam::new(model.trainable(), config.adam)?;
    // REINFORCE units (chapter 3): the baseline's moving averages are
    // training state, saved with the checkpoint.
    let mut baseline = ReinforceBaseline::new(ReinforceBaselineConfig::default())?;
    let config_json = serde_json::to_string(&ResumeKey::of(config))
        .map_err(|e| TrainError::InvalidConfig(e.to_string()))?;
    let mut report = TrainReport {
        epochs: Vec::new(),
        stopped_early: false,
        final_slope: config.slope.slope(0, 0),
    };
    if let Some(path) = checkpoint.filter(|p| p.exists()) {
        let ck = Checkpoint::read(path, &model_device(model))?;
        let mismatch = |reason: String| TrainError::ResumeMismatch {
            path: path.to_path_buf(),
            reason,
        };
        if ck.metadata.get(META_CONFIG) != Some(&config_json) {
            return Err(mismatch(format!(
                "it was written with another training configuration ({})",
                config_difference(ck.metadata.get(META_CONFIG), &config_json)
            )));
        }
        ck.load_into(model)?;
        let step = ck
            .metadata
            .get(META_STEP)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| mismatch("no optimizer step count".into()))?;
        adam.restore(step, &|name| ck.tensor(name))?;
        if let (Some(num), Some(den)) = (ck.tensor(META_BASELINE_NUM), ck.tensor(META_BASELINE_DEN))
        {
            baseline.restore(num, den)?;
        }
        report.epochs = ck
            .metadata
            .get(META_LOG)
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| mismatch("no readable training log".into()))?;
        report.stopped_early = ck.metadata.get(META_STOPPED).is_some_and(|s| s == "true");
        if let Some(check) = step_check.as_mut() {
            *check = ck
                .metadata
                .get(META_STEP_LOSS)
                .and_then(|s| serde_json::from_str(s).ok())
                .ok_or_else(|| mismatch("no state of the step-loss early stopping".into()))?;
        }
        if report.epochs.len() > config.epochs {
            return Err(mismatch(format!(
                "it holds {} finished epochs, more than the {} asked for: ask for at least {} \
                 epochs to extend it, or train into another directory",
                report.epochs.len(),
                config.epochs,
                report.epochs.len()
            )));
        }
        if let Some(last) = report.epochs.last() {
            report.final_slope = last.slope;
        }
        tracing::info!(path = %path.display(), epochs_done = report.epochs.len(), "resuming");
    }
    let batches = MiniBatches::new(train.len(), config.batch_size, config.seed)?;
    let n_batches = batches.batches_per_epoch();
    let device = model_device(model);
    for epoch in report.epochs.len()..config.epochs {
        if report.stopped_early {
            break;
        }
        let start = Instant::now();
        let mut slope = config.slope.slope(epoch as u64, adam.steps());
        // PGD adversarial training in the last epochs (eq. 2.29).
        let adversarial = model
            .spec()
            .adversarial_training
            .filter(|a| epoch + a.last_epochs >= config.epochs);
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for (b, indices) in batches.epoch(epoch as u64).enumerate() {
            let (x, y) = train.batch(&indices)?;
            let (x, y) = (x.to_device(&device)?, y.to_device(&device)?);
            // A sum propagates NaN and inf (a max would skip NaN).
            if !x
                .abs()?
                .sum_all()?
                .to_dtype(DType::F64)?
                .to_scalar::<f64>()?
                .is_finite()
            {
                return Err(TrainError::NonFiniteInput { epoch, batch: b });
            }
            let mut rng = batch_rng(config.seed, epoch, b as u64);
            slope = config.slope.slope(epoch as u64, adam.steps());
            let logits = model.forward(&x, ForwardContext::train(slope), &mut rng)?;
            let per_example = cross_entropy_per_example(&logits, &y)?;
            let mut loss = per_example.mean(0)?;
            let reinforce = model.take_reinforce_sample();
            if let Some(adv) = &adversarial {
                let x_adv = pgd_training_examples(model, &x, &y, adv, slope, &mut rng)?;
                let logits_adv = model.forward(&x_adv, ForwardContext::train(slope), &mut rng)?;
                let adv_loss = cross_entropy_per_example(&logits_adv, &y)?.mean(0)?;
                loss = ((loss * adv.tau)? + (adv_loss * (1.0 - adv.tau))?)?;
            }
            if let Some(p) = penalties(model, config.l1, config.l2)? {
                loss = (loss + p)?;
            }
            let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            if !value.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    batch: b,
                    value,
                    lr: config.adam.lr,
                });
            }
            if let Some(sample) = reinforce {
                // Its value is meaningless: added after `value` is read.
                loss = (loss + baseline.surrogate_loss(&sample, &per_example)?)?;
            }
            let grads = loss.backward()?;
            adam.step(&grads)?;
            loss_sum += value * indices.len() as f64;
            correct += count_correct(&logits, &y)?;
            seen += indices.len();
            if observer.batch(epoch, b, n_batches, value).is_break() {
                return Err(TrainError::Interrupted { epoch, batch: b });
            }
            if let (Some(check), Some(v), Some(es)) =
                (step_check.as_mut(), validation, config.early_stopping)
            {
                let step = adam.steps() - 1;
                if check.due(step) {
                    let indices = check.images(step, v.len());
                    let (vx, vy) = v.batch(&indices)?;
                    let mut rng = batch_rng(config.seed, epoch, STEP_CHECK_STREAM - b as u64);
                    let logits = model.forward(
                        &vx.to_device(&device)?,
                        ForwardContext::eval(slope),
                        &mut rng,
                    )?;
                    let vloss = cross_entropy_per_example(&logits, &vy.to_device(&device)?)?
                        .mean(0)?
                        .to_dtype(DType::F64)?
                        .to_scalar::<f64>()?;
                    if check.record(vloss, es.patience) {
                        tracing::info!(step, loss = vloss, "early stopping (step-loss rule)");
                        report.stopped_early = true;
                        break;
                    }
                }
            }
        }
        let validation_accuracy = match validation {
            Some(v) => {
                let mut rng = batch_rng(config.seed, epoch, u64::from(u32::MAX));
                let acc = accuracy(
                    model,
                    &v.images().to_device(&device)?,
                    &v.labels().to_device(&device)?,
                    config.batch_size.max(100),
                    ForwardContext::eval(slope),
                    &mut rng,
                )?;
                Some(acc.fraction())
            }
            None => None,
        };
        let log = EpochLog {
            epoch,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            validation_accuracy,
            slope,
            seconds: start.elapsed().as_secs_f64(),
        };
        tracing::info!(
            epoch, loss = log.train_loss, train_acc = log.train_accuracy,
            val_acc = ?log.validation_accuracy, slope, seconds = log.seconds, "epoch done"
        );
        report.epochs.push(log.clone());
        report.final_slope = slope;
        if let (Some(es), Some(_)) = (config.early_stopping, validation)
            && es.rule == EarlyStoppingRule::EpochAccuracy
        {
            report.stopped_early = stop_early(&report.epochs, es.patience);
        }
        if let Some(path) = checkpoint {
            let (mut extra, step) = adam.state();
            if let Some((num, den)) = baseline.state() {
                extra.push((META_BASELINE_NUM.to_string(), num));
                extra.push((META_BASELINE_DEN.to_string(), den));
            }
            let mut meta = BTreeMap::new();
            meta.insert(META_CONFIG.to_string(), config_json.clone());
            meta.insert(META_STEP.to_string(), step.to_string());
            meta.insert(
                META_LOG.to_string(),
                serde_json::to_string(&report.epochs)
                    .map_err(|e| TrainError::InvalidConfig(e.to_string()))?,
            );
            meta.insert(META_STOPPED.to_string(), report.stopped_early.to_string());
            if let Some(check) = &step_check {
                meta.insert(
                    META_STEP_LOSS.to_string(),
                    serde_json::to_string(check)
                        .map_err(|e| TrainError::InvalidConfig(e.to_string()))?,
                );
            }
            save_checkpoint_with(model, path, &meta, &extra)?;
        }
        observer.epoch(&log);
    }
    Ok(report)
}

/// The generator stream of the step-loss checks (counted down from here by
/// batch index, clear of the batches' streams and of the validation pass's
/// `u32::MAX`).
const STEP_CHECK_STREAM: u64 = u32::MAX as u64 - 1;

/// The state of [`EarlyStoppingRule::StepLoss`]: the best loss so far and
/// the checks since it (saved with every checkpoint for exact resume).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct StepLossCheck {
    every: u64,
    after: u64,
    batch: usize,
    best: Option<f64>,
    without_improvement: usize,
}

impl StepLossCheck {
    fn new(every: u64, after: u64, batch: usize) -> Self {
        Self {
            every,
            after,
            batch,
            best: None,
            without_improvement: 0,
        }
    }

    /// Whether the rule checks after training step `step` (0-based).
    fn due(&self, step: u64) -> bool {
        step >= self.after && step.is_multiple_of(self.every)
    }

    /// The validation images of the check after `step`: the script draws
    /// one batch every `every` steps from step 0 on, so check `step / every`
    /// takes the batch after `step / every` earlier ones, wrapping round.
    fn images(&self, step: u64, n: usize) -> Vec<usize> {
        let start = (step / self.every) as usize * self.batch;
        (0..self.batch).map(|i| (start + i) % n).collect()
    }

    /// Records a check's loss; true when training must stop.
    fn record(&mut self, loss: f64, patience: usize) -> bool {
        if self.best.is_none_or(|b| loss < b) {
            self.best = Some(loss);
            self.without_improvement = 0;
        } else {
            self.without_improvement += 1;
        }
        self.without_improvement > patience
    }
}

/// True when the best validation accuracy lies more than `patience` epochs back.
fn stop_early(epochs: &[EpochLog], patience: usize) -> bool {
    let accs: Vec<f64> = epochs
        .iter()
        .filter_map(|e| e.validation_accuracy)
        .collect();
    let Some(best) = accs
        .iter()
        .cloned()
        .fold(None, |b: Option<f64>, a| Some(b.map_or(a, |b| b.max(a))))
    else {
        return false;
    };
    let best_at = accs.iter().position(|a| *a == best).unwrap_or(0);
    accs.len() - 1 - best_at >= patience
}

/// The device of the model's parameters (the CPU for a model without any).
fn model_device(model: &dyn Classifier) -> candle_core::Device {
    model
        .trainable()
        .first()
        .map_or(candle_core::Device::Cpu, |(_, v)| {
            v.as_tensor().device().clone()
        })
}

/// The settings that differ between the stored resume key `stored` and
/// `current` (both JSON of [`ResumeKey`]), as `name: stored → current`.
fn config_difference(stored: Option<&String>, current: &str) -> String {
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    let (Some(old), Some(new)) = (stored.and_then(|s| parse(s)), parse(current)) else {
        return "the stored configuration is missing or unreadable".into();
    };
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return "the stored configuration is not an object".into();
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| v.map_or("absent".into(), |v| v.to_string());
            format!("{k}: {} → {}", show(old.get(k)), show(new.get(k)))
        })
        .collect();
    diffs.join("; ")
}

/// What must match for a checkpoint to be resumed: everything but the
/// number of epochs (a run may be extended).
#[derive(serde::Serialize)]
struct ResumeKey<'a> {
    batch_size: usize,
    adam: &'a AdamConfig,
    slope: SlopeSchedule,
    early_stopping: &'a Option<EarlyStopping>,
    l1: f64,
    l2: f64,
    seed: u64,
}

impl<'a> ResumeKey<'a> {
    fn of(c: &'a TrainConfig) -> Self {
        Self {
            batch_size: c.batch_size,
            adam: &c.adam,
            slope: c.slope,
            early_stopping: &c.early_stopping,
            l1: c.l1,
            l2: c.l2,
            seed: c.seed,
        }
    }
}

#[cfg(test)]
mod step_loss_tests {
    use super::*;

    #[test]
    fn checks_are_due_every_n_steps_from_the_first_allowed_one() {
        let c = StepLossCheck::new(100, 19_000, 500);
        assert!(!c.due(18_900));
        assert!(c.due(19_000));
        assert!(!c.due(19_050));
        assert!(c.due(19_100));
        let c = StepLossCheck::new(100, 19_050, 500);
        assert!(!c.due(19_000) && c.due(19_100));
    }

    #[test]
    fn each_check_takes_the_next_batch_wrapping_round() {
        let c = StepLossCheck::new(100, 0, 3);
        assert_eq!(c.images(0, 7), vec![0, 1, 2]);
        assert_eq!(c.images(100, 7), vec![3, 4, 5]);
        assert_eq!(c.images(200, 7), vec![6, 0, 1]);
        // Step 250 belongs to check 2's batch position.
        assert_eq!(c.images(250, 7), c.images(200, 7));
    }

    #[test]
    fn stops_after_patience_plus_one_checks_without_a_lower_loss() {
        let mut c = StepLossCheck::new(1, 0, 1);
        assert!(!c.record(1.0, 3));
        assert!(!c.record(1.0, 3), "an equal loss is no improvement: 1");
        assert!(!c.record(2.0, 3)); // 2
        assert!(!c.record(0.5, 3), "improvement resets");
        assert_eq!(c.without_improvement, 0);
        for _ in 0..3 {
            assert!(!c.record(0.6, 3));
        }
        assert!(c.record(0.6, 3), "the 4th check without improvement stops");
    }

    #[test]
    fn the_default_rule_is_not_serialized_so_old_keys_stay_valid() {
        let json = serde_json::to_string(&EarlyStopping::epochs(3)).expect("json");
        assert_eq!(json, r#"{"patience":3}"#);
        let back: EarlyStopping = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, EarlyStopping::epochs(3));
        let authors = serde_json::to_string(&EarlyStopping::authors()).expect("json");
        assert!(authors.contains(r#""step-loss":{"every":100,"after":19000,"batch":500}"#));
    }
}
