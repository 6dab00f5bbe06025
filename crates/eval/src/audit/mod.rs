//! [`audit`]: a one-call gradient-masking audit of any classifier: clean
//! accuracy over repeated passes, FGSM, PGD and APGD with and without EOT,
//! BPDA and fixed randomness where the model has them, Square, transfer
//! from a surrogate CNN, an ε sweep up to 1, the gradient and saturation
//! evidence, and the checklist of Athalye et al. (2018, §3) and Carlini et
//! al. (2019, §5) as verdicts. It ends with the robust accuracy we stand
//! behind: the per-image worst case over every attack ([`worst_case`](crate::worst_case)).
//!
//! Every number comes from [`evaluate`](crate::evaluate) (or its model and
//! transfer forms), each line drawing from [`stage_rng`] under the budget's
//! seed and the attack's name: `cargo xtask attack` with the same attack,
//! images, passes and batch gives the same number, and a resumed audit the
//! same report.

mod budget;
mod checks;
mod lines;
mod report;
mod surrogate;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sgbn_attacks::{EvalClassifier, Victim};
use sgbn_data::Dataset;
use sgbn_metrics::{SanityFlags, SaturationStats};
use sgbn_models::{Bpda, Classifier, DenseUnit, ForwardContext};

pub use budget::AuditBudget;
pub use checks::{Check, CheckStatus};
pub use lines::{AuditRole, Capabilities, NotApplicable, PlannedLine, plan_lines};
pub use report::MarkdownOptions;
pub use surrogate::{SurrogateInfo, surrogate_config, surrogate_spec, train_surrogate};

use crate::{
    AttackSpec, CleanCheck, CleanConfig, EvalConfig, EvalError, EvalResult, RESULTS_VERSION,
    Result, WorstCase, clean_check, evaluate_model, evaluate_transfer, evaluate_with_progress,
    key_hash, stage_rng,
};

/// The classifier under audit.
#[derive(Clone, Copy)]
pub enum AuditTarget<'a> {
    /// A model of `sgbn-models` in evaluation mode at `slope`: BPDA of its
    /// binarized and gated parts and their saturation apply.
    Model {
        /// The model.
        model: &'a dyn Classifier,
        /// The slope of its binary units (the trained one).
        slope: f64,
    },
    /// Any differentiable classifier (a candle model of one's own, an
    /// imported file): BPDA does not apply, masks are held fixed where
    /// [`Victim::fixed_at`] offers it.
    Victim(&'a dyn Victim),
}

impl std::fmt::Debug for AuditTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Model { model, slope } => f
                .debug_struct("Model")
                .field("model", &model.spec().name)
                .field("slope", slope)
                .finish(),
            Self::Victim(_) => f.write_str("Victim(..)"),
        }
    }
}

/// The parts of `model` that BPDA can differentiate as the identity: the
/// binary dense unit, and the gates' sampling and activation.
pub fn bpda_parts(model: &dyn Classifier) -> Bpda {
    let spec = model.spec();
    let gated = spec.convs.iter().any(|c| c.gate.is_some());
    Bpda {
        dense_unit: spec.hidden_bnn.is_none()
            && matches!(
                spec.dense_unit,
                DenseUnit::StochasticBinary | DenseUnit::DeterministicBinary
            ),
        gate: sgbn_models::GateBpda {
            sampling: gated,
            activation: gated,
        },
    }
}

/// The images an audit reads.
#[derive(Debug, Clone, Copy)]
pub struct AuditData<'a> {
    /// Test images (the budget's first `images` are attacked).
    pub test: &'a Dataset,
    /// Training images for the surrogate CNN (`None`: no transfer line).
    pub train: Option<&'a Dataset>,
}

/// Where an audit keeps the results of its lines, so that an interrupted
/// one resumes (`cargo xtask audit` keeps them in files, atomically).
pub trait AuditCache {
    /// The JSON stored under `key`, if any.
    fn get(&mut self, key: &str) -> Result<Option<String>>;
    /// Stores `json` under `key`.
    fn put(&mut self, key: &str, json: &str) -> Result<()>;
}

/// What identifies the audited model and its data in cache keys (e.g. the
/// SHA-256 of the checkpoint and of the data files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditIdentity {
    /// The model.
    pub model: String,
    /// The data.
    pub data: String,
}

/// How far an audit is, in units of estimated work (forward passes per
/// image, summed over lines).
#[derive(Debug, Clone)]
pub struct AuditProgress {
    /// What runs now (an attack's name, `clean`, `surrogate`).
    pub stage: String,
    /// Work done.
    pub done: f64,
    /// All the work.
    pub total: f64,
    /// Whether the stage's result came from the cache.
    pub cached: bool,
}

/// Optional parts of an audit: a cache, progress, the surrogate's
/// checkpoint.
#[derive(Default)]
pub struct AuditHooks<'a> {
    /// A cache and the identity its keys are made of.
    pub cache: Option<(&'a mut dyn AuditCache, AuditIdentity)>,
    /// Called as the audit moves on.
    pub progress: Option<&'a mut dyn FnMut(&AuditProgress)>,
    /// The surrogate's checkpoint: resumed from and written after each epoch.
    pub surrogate_checkpoint: Option<PathBuf>,
}

impl std::fmt::Debug for AuditHooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditHooks")
            .field("cache", &self.cache.as_ref().map(|c| &c.1))
            .field("surrogate_checkpoint", &self.surrogate_checkpoint)
            .finish_non_exhaustive()
    }
}

/// One measured line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLine {
    /// What it is for.
    pub role: AuditRole,
    /// The attack (crafted on the surrogate for [`AuditRole::Transfer`]).
    pub spec: AttackSpec,
    /// The attack's name with its parameters.
    pub name: String,
    /// The outcome, with per-image counts.
    pub result: EvalResult,
}

/// Everything an audit measured and concluded (`audit.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// [`RESULTS_VERSION`].
    pub version: String,
    /// The budget.
    pub budget: AuditBudget,
    /// What the model offered, which decided the lines.
    pub capabilities: Capabilities,
    /// Images attacked.
    pub images: usize,
    /// Classes of the model.
    pub classes: usize,
    /// Passes per evaluation (1 on a deterministic model).
    pub passes: usize,
    /// Clean accuracy over the passes and the input-gradient statistics.
    pub clean: CleanCheck,
    /// Saturation of the binary units and gates at the clean images (a
    /// model of `sgbn-models` only).
    pub saturation: Option<SaturationStats>,
    /// The sanity flags of the clean check, the saturation, Square against
    /// the gradient attacks and APGD-DLR against APGD-CE.
    pub flags: SanityFlags,
    /// The transfer line's surrogate, when one was trained.
    pub surrogate: Option<SurrogateInfo>,
    /// Every line: those at the budget's ε, then the sweep.
    pub lines: Vec<AuditLine>,
    /// The roles not run, and why.
    pub not_applicable: Vec<NotApplicable>,
    /// The checklist.
    pub checks: Vec<Check>,
    /// The per-image worst case over every line at the budget's ε.
    pub robust: Option<WorstCase>,
    /// FGSM's accuracy at the budget's ε (what a single-step evaluation reports).
    pub fgsm_accuracy: f64,
    /// Whether a check failed.
    pub masking: bool,
    /// The one-line verdict.
    pub verdict: String,
    /// Wall time of the whole audit, seconds (cached lines count their own).
    pub seconds: f64,
}

impl AuditReport {
    /// The lines at the budget's ε.
    pub fn at_eps(&self) -> Vec<&AuditLine> {
        self.lines
            .iter()
            .filter(|l| crate::eps_eq(l.spec.eps(), self.budget.eps))
            .collect()
    }

    /// The line of `role` at the budget's ε.
    pub fn line(&self, role: AuditRole) -> Option<&AuditLine> {
        self.at_eps().into_iter().find(|l| l.role == role)
    }
}

/// [`audit_with`] without cache, progress or surrogate checkpoint.
pub fn audit(
    target: AuditTarget<'_>,
    data: AuditData<'_>,
    budget: &AuditBudget,
) -> Result<AuditReport> {
    audit_with(target, data, budget, AuditHooks::default())
}

/// Estimated forward passes per image of a line.
fn line_cost(spec: &AttackSpec, passes: usize) -> f64 {
    let work = match *spec {
        AttackSpec::Fgsm { eot, .. } => 2 * eot,
        AttackSpec::Bim { steps, eot, .. }
        | AttackSpec::Ill { steps, eot, .. }
        | AttackSpec::Pgd { steps, eot, .. } => 2 * steps * eot,
        AttackSpec::Apgd {
            steps,
            eot,
            restarts,
            ..
        } => 2 * steps * eot * restarts.max(1),
        AttackSpec::Square { queries, eot, .. } => queries * eot,
        AttackSpec::AutoAttack { .. } => 2_000,
    };
    (work + passes) as f64
}

/// The checks against the model before any work: image shape, label
/// count, logits of `classes` columns.
fn check_inputs(victim: &dyn Victim, test: &Dataset, budget: &AuditBudget) -> Result<()> {
    let dims = test.images().dims().to_vec();
    if dims.len() != 4 {
        return Err(EvalError::InvalidConfig(format!(
            "audit: test images must be (N, C, H, W), got {dims:?}"
        )));
    }
    if test.len() < budget.images {
        return Err(EvalError::InvalidConfig(format!(
            "audit: {} images asked for, the test set has {}",
            budget.images,
            test.len()
        )));
    }
    if victim.num_classes() != test.num_classes() {
        return Err(EvalError::InvalidConfig(format!(
            "audit: the model has {} classes, the data {}",
            victim.num_classes(),
            test.num_classes()
        )));
    }
    let one = test.images().narrow(0, 0, 1)?;
    let logits = victim.logits(&one, &mut stage_rng(budget.seed, "shape check"))?;
    if logits.dims() != [1, test.num_classes()] {
        return Err(EvalError::InvalidConfig(format!(
            "audit: the model maps one {:?} image to logits of shape {:?}, not [1, {}]",
            &dims[1..],
            logits.dims(),
            test.num_classes()
        )));
    }
    Ok(())
}

struct Runner<'h> {
    cache: Option<(&'h mut dyn AuditCache, AuditIdentity)>,
    progress: Option<&'h mut dyn FnMut(&AuditProgress)>,
    done: f64,
    total: f64,
}

impl Runner<'_> {
    fn report(&mut self, stage: &str, cached: bool) {
        if let Some(p) = self.progress.as_deref_mut() {
            p(&AuditProgress {
                stage: stage.to_string(),
                done: self.done,
                total: self.total,
                cached,
            });
        }
    }

    /// The cached value of `key_of`'s key, or `compute`'s, stored.
    fn cached<T: Serialize + for<'de> Deserialize<'de>>(
        &mut self,
        key_of: &impl Serialize,
        stage: &str,
        cost: f64,
        compute: impl FnOnce(&mut dyn FnMut(f64)) -> Result<T>,
    ) -> Result<T> {
        let key = match &self.cache {
            Some((_, id)) => Some(key_hash(&(RESULTS_VERSION, "audit", id, key_of))?),
            None => None,
        };
        if let (Some((cache, _)), Some(k)) = (self.cache.as_mut(), key.as_ref())
            && let Some(json) = cache.get(k)?
        {
            let value = serde_json::from_str(&json).map_err(|e| {
                EvalError::InvalidConfig(format!(
                    "audit cache entry {k} ({stage}) is damaged: {e}; delete it to recompute"
                ))
            })?;
            self.done += cost;
            self.report(stage, true);
            return Ok(value);
        }
        self.report(stage, false);
        let start = self.done;
        let value = {
            let progress = &mut self.progress;
            let total = self.total;
            compute(&mut |share: f64| {
                if let Some(p) = progress.as_deref_mut() {
                    p(&AuditProgress {
                        stage: stage.to_string(),
                        done: start + cost * share.clamp(0.0, 1.0),
                        total,
                        cached: false,
                    });
                }
            })?
        };
        self.done = start + cost;
        if let (Some((cache, _)), Some(k)) = (self.cache.as_mut(), key.as_ref()) {
            cache.put(k, &serde_json::to_string(&value)?)?;
        }
        Ok(value)
    }
}

/// Audits `target` on `data` within `budget` (see the module's text).
///
/// # Errors
/// A budget value that cannot work, images that are not `(N, C, H, W)`,
/// fewer test images than asked for, a model whose logits are not
/// `(1, classes)` for one image or whose classes differ from the data's
/// (all before any attack runs); then any error of the attacks or of the
/// cache.
pub fn audit_with(
    target: AuditTarget<'_>,
    data: AuditData<'_>,
    budget: &AuditBudget,
    hooks: AuditHooks<'_>,
) -> Result<AuditReport> {
    let start = std::time::Instant::now();
    budget.validate()?;
    let owned_victim;
    let victim: &dyn Victim = match target {
        AuditTarget::Model { model, slope } => {
            owned_victim = EvalClassifier::new(model, slope);
            &owned_victim
        }
        AuditTarget::Victim(v) => v,
    };
    check_inputs(victim, data.test, budget)?;
    let n = budget.images;
    let test = data.test.select(&(0..n).collect::<Vec<_>>())?;
    let (x, y) = (test.images(), test.labels());
    let surrogate_spec_result =
        surrogate_spec([x.dim(1)?, x.dim(2)?, x.dim(3)?], data.test.num_classes());
    let surrogate_planned = data.train.is_some() && budget.surrogate_epochs > 0;
    let mut runner = Runner {
        cache: hooks.cache,
        progress: hooks.progress,
        done: 0.0,
        total: 0.0,
    };

    // The clean passes decide whether the model is random.
    let clean_config = CleanConfig {
        repeats: budget.passes,
        eot: 1,
        batch_size: budget.batch_size,
    };
    runner.total = line_cost(&AttackSpec::fgsm(0.0), budget.passes) * n as f64;
    let clean: CleanCheck = runner.cached(
        &("clean", &clean_config, n, budget.seed),
        "clean",
        runner.total,
        |_| {
            clean_check(
                victim,
                x,
                y,
                &clean_config,
                &mut stage_rng(budget.seed, "clean"),
            )
        },
    )?;
    let stochastic = victim.is_stochastic() || clean.repeated.unstable_fraction > 0.0;
    let passes = if stochastic { budget.passes } else { 1 };
    let fixed_masks = victim
        .fixed_at(
            &x.narrow(0, 0, 1)?,
            &mut stage_rng(budget.seed, "fixed-at probe"),
        )?
        .is_some();
    let caps = Capabilities {
        stochastic,
        bpda: match target {
            AuditTarget::Model { model, .. } => Some(bpda_parts(model)),
            AuditTarget::Victim(_) => None,
        },
        fixed_masks,
        surrogate: surrogate_planned && surrogate_spec_result.is_ok(),
        classes: victim.num_classes(),
    };
    let (planned, mut not_applicable) = plan_lines(&caps, budget);
    if surrogate_planned
        && let Err(reason) = &surrogate_spec_result
        && let Some(na) = not_applicable
            .iter_mut()
            .find(|na| na.role == AuditRole::Transfer)
    {
        na.reason.clone_from(reason);
    }
    let train_images = data.train.map_or(0, |t| {
        budget
            .surrogate_train_size
            .map_or(t.len(), |k| k.min(t.len()))
    });
    let surrogate_cost = (budget.surrogate_epochs * train_images * 3) as f64;
    runner.total += planned
        .iter()
        .map(|l| line_cost(&l.spec, passes) * n as f64)
        .sum::<f64>()
        + if caps.surrogate { surrogate_cost } else { 0.0 };

    // The surrogate (trained once, resumed from its checkpoint).
    let surrogate = match (caps.surrogate, data.train, &surrogate_spec_result) {
        (true, Some(train_set), Ok(spec)) => {
            runner.report("surrogate", false);
            let (net, info) = train_surrogate(
                spec,
                train_set,
                budget,
                hooks.surrogate_checkpoint.as_deref(),
                &mut sgbn_defenses::Quiet,
            )?;
            runner.done += surrogate_cost;
            Some((net, info))
        }
        _ => None,
    };
    let surrogate_victim = surrogate
        .as_ref()
        .map(|(net, _)| EvalClassifier::new(net, 1.0));
    let surrogate_key = surrogate
        .as_ref()
        .map(|(_, info)| key_hash(info))
        .transpose()?;

    let config = EvalConfig {
        batch_size: budget.batch_size,
        repeats: passes,
        attack_seed: budget.seed,
        confidence_bins: None,
    };
    let mut lines = Vec::with_capacity(planned.len());
    for line in planned {
        let transfer = line.role == AuditRole::Transfer;
        let inner = line.spec.build(budget.seed)?.name();
        let name = if transfer {
            format!("transfer({inner})")
        } else {
            inner
        };
        let cost = line_cost(&line.spec, passes) * n as f64;
        let key = (&line.spec, transfer.then_some(&surrogate_key), &config, n);
        let result: EvalResult = runner.cached(&key, &name, cost, |progress| {
            let mut rng = stage_rng(budget.seed, &name);
            let mut batches =
                |done: usize, total: usize| progress(done as f64 / total.max(1) as f64);
            match (transfer, target) {
                (true, _) => {
                    let surrogate = surrogate_victim.as_ref().ok_or_else(|| {
                        EvalError::InvalidConfig("transfer line without a surrogate".into())
                    })?;
                    evaluate_transfer(
                        victim,
                        surrogate,
                        &line.spec,
                        &config,
                        x,
                        y,
                        &mut rng,
                        &mut batches,
                    )
                }
                (false, AuditTarget::Model { model, slope }) => evaluate_model(
                    model,
                    slope,
                    &line.spec,
                    &config,
                    x,
                    y,
                    &mut rng,
                    &mut batches,
                ),
                (false, AuditTarget::Victim(v)) => {
                    evaluate_with_progress(v, &line.spec, &config, x, y, &mut rng, &mut batches)
                }
            }
        })?;
        lines.push(AuditLine {
            role: line.role,
            spec: line.spec,
            name,
            result,
        });
    }

    let saturation = match target {
        AuditTarget::Model { model, slope } => Some(SaturationStats::measure(
            model,
            ForwardContext::eval(slope),
            x,
            budget.batch_size,
            &mut stage_rng(budget.seed, "saturation"),
        )?),
        AuditTarget::Victim(_) => None,
    };
    Ok(report::conclude(report::Measured {
        budget: budget.clone(),
        capabilities: caps,
        images: n,
        classes: victim.num_classes(),
        passes,
        clean,
        saturation,
        surrogate: surrogate.map(|(_, info)| info),
        lines,
        not_applicable: std::mem::take(&mut not_applicable),
        seconds: start.elapsed().as_secs_f64(),
    }))
}
