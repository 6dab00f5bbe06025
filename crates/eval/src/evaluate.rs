//! [`evaluate`]: the one white-box evaluation protocol. It crafts
//! adversarial examples for a whole test set with one [`AttackSpec`], judges
//! them in one pass, and, for a stochastic model, measures accuracy again
//! over repeated passes. `cargo xtask attack` and every experiment call it.

use std::time::Instant;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use sgbn_attacks::{
    Attack, EvalClassifier, TransferAttack, Victim, attack_dataset_with_progress, predict_dataset,
};
use sgbn_estimators::SeededRng;
use sgbn_metrics::{Distortion, Histogram, RepeatedAccuracy, true_class_confidence};
use sgbn_models::Classifier;

use crate::{AttackSpec, EvalError, Result};

/// How an evaluation runs, besides the attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Images per attack batch (results do not depend on it: every example
    /// draws the attack's random choices from its own generator).
    pub batch_size: usize,
    /// Passes over the adversarial images whose accuracy is averaged (the
    /// headline of a stochastic model). With 1, the judging pass is the
    /// result and no further pass is made.
    pub repeats: usize,
    /// Seed of the attack's own random choices ([`AttackSpec::build`]).
    pub attack_seed: u64,
    /// With `Some(bins)`, a histogram of the true class's softmax
    /// probability on the adversarial images (one further pass, after every
    /// other), in `bins` equal bins over [0, 1] (Fig. 3.3).
    pub confidence_bins: Option<usize>,
}

impl Default for EvalConfig {
    /// Batches of 100, one pass, seed 0.
    fn default() -> Self {
        Self {
            batch_size: 100,
            repeats: 1,
            attack_seed: 0,
            confidence_bins: None,
        }
    }
}

/// How far the adversarial images moved and what the attack spent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttackCost {
    /// Share of examples the attack made misclassified (or sent to their
    /// target), by the judging pass.
    pub success_rate: f64,
    /// Mean ℓ1 distortion per pixel (eq. 2.31).
    pub mean_l1: f64,
    /// Mean ℓ∞ distortion.
    pub mean_linf: f64,
    /// Largest ℓ∞ distortion.
    pub max_linf: f64,
    /// Mean forward passes spent per example.
    pub mean_forward_passes: f64,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// Accuracy of the judging pass right after the attack.
    pub accuracy: f64,
    /// Examples evaluated.
    pub total: usize,
    /// Accuracy over `repeats` further passes (when `repeats > 1`).
    pub repeated: Option<RepeatedAccuracy>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Distortion and attack cost (absent from results cached before they
    /// were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<AttackCost>,
    /// The true class's confidence on the adversarial images, when asked for
    /// ([`EvalConfig::confidence_bins`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Histogram>,
    /// Per image, in how many of the repeated passes (the judging pass when
    /// there were none) the model was right: what [`worst_case`] combines
    /// across attacks. Absent from results cached before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct_passes: Option<Vec<u16>>,
}

impl EvalResult {
    /// The accuracy this evaluation reports: the mean over the repeated
    /// passes when there were any, else the judging pass.
    pub fn headline(&self) -> f64 {
        self.repeated
            .as_ref()
            .map_or(self.accuracy, |r| r.summary.mean)
    }

    /// The passes behind [`EvalResult::correct_passes`]: the repeated ones,
    /// else the judging pass.
    pub fn passes(&self) -> usize {
        self.repeated.as_ref().map_or(1, |r| r.per_pass.len())
    }
}

/// The per-image worst case over several evaluations of one model on the
/// same test images ([`worst_case`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WorstCase {
    /// Images compared: the first ones, as many as the smallest evaluation has.
    pub images: usize,
    /// Share of those images that survive every evaluation, each by a strict
    /// majority of its passes (for a deterministic model: its one verdict).
    pub robust: f64,
    /// Mean over those images of the smallest share of passes right among
    /// the evaluations: the mean-over-passes figure beside `robust`.
    pub mean_over_passes: f64,
}

/// The per-image worst case of `results` (evaluations of one model on the
/// first test images, e.g. every attack of a table row): an image counts as
/// robust only if it survives every one of them. `None` when there is no
/// result, or one lacks per-image counts (cached before they were recorded).
pub fn worst_case(results: &[&EvalResult]) -> Option<WorstCase> {
    let counts: Vec<(&[u16], usize)> = results
        .iter()
        .map(|r| r.correct_passes.as_deref().map(|c| (c, r.passes())))
        .collect::<Option<_>>()?;
    let images = counts.iter().map(|(c, _)| c.len()).min()?;
    if images == 0 {
        return None;
    }
    let (mut robust, mut mean) = (0usize, 0f64);
    for i in 0..images {
        robust += usize::from(counts.iter().all(|(c, r)| 2 * c[i] as usize > *r));
        mean += counts
            .iter()
            .map(|(c, r)| c[i] as f64 / *r as f64)
            .fold(1.0, f64::min);
    }
    Some(WorstCase {
        images,
        robust: robust as f64 / images as f64,
        mean_over_passes: mean / images as f64,
    })
}

/// Attacks `images` / u32 `labels` of `victim` with `attack` and measures
/// the accuracy left: the protocol of every white-box number sgbn reports.
///
/// The attack is built with `config.attack_seed`; the model's randomness
/// (during the attack, the judging pass and the repeated passes, in that
/// order) comes from `rng`.
pub fn evaluate(
    victim: &dyn Victim,
    attack: &AttackSpec,
    config: &EvalConfig,
    images: &Tensor,
    labels: &Tensor,
    rng: &mut SeededRng,
) -> Result<EvalResult> {
    evaluate_with_progress(victim, attack, config, images, labels, rng, &mut |_, _| {})
}

/// [`evaluate`], calling `progress(done, total)` after each attack batch.
///
/// # Errors
/// Besides the attack's own: an attack with BPDA, which needs a model of
/// `sgbn-models` ([`evaluate_model`]), on another victim.
pub fn evaluate_with_progress(
    victim: &dyn Victim,
    attack: &AttackSpec,
    config: &EvalConfig,
    images: &Tensor,
    labels: &Tensor,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EvalResult> {
    if attack.bpda().any() {
        return Err(EvalError::InvalidConfig(
            "BPDA replaces backward passes inside a sgbn model: evaluate it with evaluate_model"
                .into(),
        ));
    }
    run(victim, attack, config, images, labels, rng, progress)
}

/// [`evaluate`] on a model of `sgbn-models` in evaluation mode at `slope`,
/// with the attack's BPDA applied to the crafting passes (the forward
/// passes, and so every prediction, are the same with and without it).
#[allow(clippy::too_many_arguments)] // evaluate's arguments and the model's two
pub fn evaluate_model(
    model: &dyn Classifier,
    slope: f64,
    attack: &AttackSpec,
    config: &EvalConfig,
    images: &Tensor,
    labels: &Tensor,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EvalResult> {
    let victim = EvalClassifier::new(model, slope).with_bpda(attack.bpda());
    run(&victim, attack, config, images, labels, rng, progress)
}

/// [`evaluate`] of `attack` crafted on `surrogate` and judged on `victim`
/// (black-box transfer): the same judging and repeated passes, so the
/// result combines with white-box ones in [`worst_case`]. `attack` must not
/// use BPDA (the surrogate is any victim).
#[allow(clippy::too_many_arguments)] // evaluate's arguments and the surrogate
pub fn evaluate_transfer(
    victim: &dyn Victim,
    surrogate: &dyn Victim,
    attack: &AttackSpec,
    config: &EvalConfig,
    images: &Tensor,
    labels: &Tensor,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EvalResult> {
    if attack.bpda().any() {
        return Err(EvalError::InvalidConfig(
            "a transfer attack is crafted on any surrogate: BPDA does not apply".into(),
        ));
    }
    let crafted = TransferAttack::new(attack.build(config.attack_seed)?, surrogate);
    run_built(&crafted, victim, config, images, labels, rng, progress)
}

fn run(
    victim: &dyn Victim,
    attack: &AttackSpec,
    config: &EvalConfig,
    images: &Tensor,
    labels: &Tensor,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EvalResult> {
    let built = attack.build(config.attack_seed)?;
    run_built(
        built.as_ref(),
        victim,
        config,
        images,
        labels,
        rng,
        progress,
    )
}

fn run_built(
    built: &dyn Attack,
    victim: &dyn Victim,
    config: &EvalConfig,
    images: &Tensor,
    labels: &Tensor,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EvalResult> {
    if config.repeats == 0 {
        return Err(EvalError::InvalidConfig(
            "repeats must be ≥ 1 (1: the judging pass only)".into(),
        ));
    }
    let start = Instant::now();
    let out = attack_dataset_with_progress(
        built,
        victim,
        images,
        labels,
        config.batch_size,
        rng,
        progress,
    )?;
    let truth: Vec<u32> = labels.to_vec1()?;
    let n = truth.len();
    // The same passes as `RepeatedAccuracy::measure`, kept per image.
    let passes: Vec<Vec<u32>> = if config.repeats > 1 {
        (0..config.repeats)
            .map(|_| predict_dataset(victim, &out.adversarial, config.batch_size, rng))
            .collect::<std::result::Result<_, _>>()?
    } else {
        vec![out.predictions.clone()]
    };
    let repeated = if config.repeats > 1 {
        Some(RepeatedAccuracy::from_predictions(
            &passes,
            &truth,
            victim.num_classes(),
        )?)
    } else {
        None
    };
    let correct_passes: Vec<u16> = (0..n)
        .map(|i| passes.iter().filter(|p| p[i] == truth[i]).count() as u16)
        .collect();
    let confidence = match config.confidence_bins {
        Some(bins) => {
            let p =
                true_class_confidence(victim, &out.adversarial, labels, config.batch_size, rng)?;
            Some(Histogram::of(p, 0.0, 1.0, bins)?)
        }
        None => None,
    };
    let d = Distortion::between(images, &out.adversarial)?;
    let share = |k: usize| k as f64 / n.max(1) as f64;
    Ok(EvalResult {
        accuracy: share(out.correct(&truth)),
        total: n,
        repeated,
        seconds: start.elapsed().as_secs_f64(),
        cost: Some(AttackCost {
            success_rate: share(out.success.iter().filter(|s| **s).count()),
            mean_l1: d.mean_l1(),
            mean_linf: d.mean_linf(),
            max_linf: d.max_linf(),
            mean_forward_passes: out.forward_passes.iter().sum::<usize>() as f64 / n.max(1) as f64,
        }),
        confidence,
        correct_passes: Some(correct_passes),
    })
}
