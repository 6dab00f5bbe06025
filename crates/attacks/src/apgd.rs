//! APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness
//! with an ensemble of diverse parameter-free attacks", Algorithm 1), ℓ∞:
//! PGD with momentum 0.75 whose step size starts at 2ε and halves, per
//! example, at checkpoints where the objective stopped rising (restarting
//! from the best point found), on the cross-entropy, the DLR loss or the
//! targeted DLR loss (APGD-T), with EOT over the model's randomness.
//!
//! The schedule, the projections and the step rule follow AutoAttack's
//! `autopgd_base.py` line for line. Two choices where a stochastic model
//! makes AutoAttack's single forward pass ambiguous (docs/attacks.md): an
//! iterate counts as adversarial when a strict majority of the EOT draws
//! misclassify it (with one draw: that draw, as AutoAttack), and the
//! objective that drives the step-size checkpoints is the mean over the
//! draws (AutoAttack: the last draw). An example the attack does not break
//! is returned at its highest-objective point, not at the clean image, so
//! that the evaluation's fresh passes judge the attack's best try.
//! [`ApgdConfig::autoattack_rule`] restores AutoAttack's choices, for
//! cross-checks against its code.

use candle_core::{DType, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sgbn_estimators::SeededRng;

use crate::{
    Attack, AttackError, Batch, Perturbed, Result, Victim, batch::judge, cross_entropy_per_example,
    dlr_loss, example_rng, gradient::eot_gradient, targeted_dlr_loss,
};

/// APGD's momentum α (Croce & Hein 2020, eq. 3: 0.75).
pub const APGD_MOMENTUM: f32 = 0.75;

/// The objective APGD climbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApgdLoss {
    /// Cross-entropy at the true label (APGD-CE).
    Ce,
    /// The difference-of-logits ratio ([`dlr_loss`], APGD-DLR).
    Dlr,
    /// The targeted DLR loss ([`targeted_dlr_loss`]) towards each of the
    /// `target_classes` classes the model ranks highest after its top one, in
    /// turn (APGD-T). As in AutoAttack, any misclassification counts as a
    /// success.
    TargetedDlr,
}

/// Settings of [`Apgd`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApgdConfig {
    /// ℓ∞ budget ε ∈ [0, 1].
    pub eps: f64,
    /// Iterations per run (AutoAttack: 100).
    pub steps: usize,
    /// Runs from fresh random starts, each on the examples not yet broken
    /// (AutoAttack's `n_restarts`; per target class for APGD-T).
    pub restarts: usize,
    /// The objective.
    pub loss: ApgdLoss,
    /// Target classes tried in turn by APGD-T (AutoAttack: 9); ignored by the
    /// untargeted losses.
    pub target_classes: usize,
    /// Draws of the model's randomness averaged per gradient (EOT;
    /// AutoAttack's `rand` version: 20).
    pub eot_samples: usize,
    /// The share ρ of rising steps below which a checkpoint halves the step
    /// (AutoAttack: 0.75).
    pub rho: f64,
    /// Seed of the random starts, per example via [`example_rng`].
    pub seed: u64,
    /// AutoAttack's rule on a stochastic model instead of ours (module
    /// docs): one clean pass picks the images to attack, the last EOT draw
    /// decides success and drives the checkpoints, and an image not broken
    /// is returned as its clean image. For cross-checks against AutoAttack's
    /// code; on a deterministic model the two rules give the same result.
    #[serde(default)]
    pub autoattack_rule: bool,
}

impl ApgdConfig {
    /// APGD-CE at budget `eps` with AutoAttack's settings: 100 steps, one
    /// restart, ρ 0.75, no EOT, seed 0.
    pub fn new(eps: f64) -> Self {
        Self {
            eps,
            steps: 100,
            restarts: 1,
            loss: ApgdLoss::Ce,
            target_classes: 9,
            eot_samples: 1,
            rho: 0.75,
            seed: 0,
            autoattack_rule: false,
        }
    }

    /// Checks every value and names the bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AttackError::InvalidConfig(m));
        if !(self.eps.is_finite() && (0.0..=1.0).contains(&self.eps)) {
            return bad(format!("ε = {} must be in [0, 1]", self.eps));
        }
        if self.steps == 0 {
            return bad("APGD needs at least one step".into());
        }
        if self.restarts == 0 {
            return bad("APGD needs at least one restart (run)".into());
        }
        if self.eot_samples == 0 {
            return bad("EOT samples must be ≥ 1".into());
        }
        if !(self.rho.is_finite() && self.rho > 0.0 && self.rho <= 1.0) {
            return bad(format!("ρ = {} must be in (0, 1]", self.rho));
        }
        if self.loss == ApgdLoss::TargetedDlr && self.target_classes == 0 {
            return bad("APGD-T needs at least one target class".into());
        }
        Ok(())
    }
}

/// The APGD attack (CE, DLR or targeted DLR).
#[derive(Debug, Clone, PartialEq)]
pub struct Apgd {
    config: ApgdConfig,
}

/// One run of Algorithm 1 on a set of examples (host rows).
struct Run {
    /// Per example: broken at some iterate (majority of the draws wrong).
    fooled: Vec<bool>,
    /// The last breaking iterate where `fooled`.
    adversarial: Vec<f32>,
    /// The highest-objective iterate.
    best: Vec<f32>,
    /// Its objective.
    best_objective: Vec<f32>,
}

/// Which iterations end a stretch of APGD's step-size checkpoints.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    first: usize,
    min: usize,
    decrease: usize,
}

impl Schedule {
    /// AutoAttack's `n_iter_2`, `n_iter_min` and `size_decr` for `steps`.
    fn for_steps(steps: usize) -> Self {
        let share = |p: f64| ((p * steps as f64) as usize).max(1);
        Self {
            first: share(0.22),
            min: share(0.06),
            decrease: share(0.03),
        }
    }
}

impl Apgd {
    /// APGD from a checked configuration.
    pub fn new(config: ApgdConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// APGD-CE at `eps` with AutoAttack's defaults.
    pub fn ce(eps: f64) -> Result<Self> {
        Self::new(ApgdConfig::new(eps))
    }

    /// APGD-DLR at `eps` with AutoAttack's defaults.
    pub fn dlr(eps: f64) -> Result<Self> {
        Self::new(ApgdConfig {
            loss: ApgdLoss::Dlr,
            ..ApgdConfig::new(eps)
        })
    }

    /// APGD-T at `eps` over `target_classes` targets, AutoAttack's defaults
    /// otherwise.
    pub fn targeted(eps: f64, target_classes: usize) -> Result<Self> {
        Self::new(ApgdConfig {
            loss: ApgdLoss::TargetedDlr,
            target_classes,
            ..ApgdConfig::new(eps)
        })
    }

    /// The same attack with the gradient averaged over `k` draws (EOT).
    pub fn with_eot(mut self, k: usize) -> Result<Self> {
        self.config.eot_samples = k;
        self.config.validate()?;
        Ok(self)
    }

    /// The same attack with `steps` iterations per run.
    pub fn with_steps(mut self, steps: usize) -> Result<Self> {
        self.config.steps = steps;
        self.config.validate()?;
        Ok(self)
    }

    /// The same attack with `restarts` runs.
    pub fn with_restarts(mut self, restarts: usize) -> Result<Self> {
        self.config.restarts = restarts;
        self.config.validate()?;
        Ok(self)
    }

    /// The same attack with another seed for its random starts.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Its configuration.
    pub fn config(&self) -> &ApgdConfig {
        &self.config
    }

    /// The seed of run `run` (restart, or target × restart): the configured
    /// seed for the first, then a fixed odd step apart.
    fn run_seed(&self, run: usize) -> u64 {
        self.config
            .seed
            .wrapping_add((run as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Algorithm 1 on the host rows `x` (`labels.len()` examples of `per`
    /// values, shaped `shape` with the batch first), from random starts drawn
    /// by `seed` and each example's global index.
    #[allow(clippy::too_many_arguments)] // the rows, their labels, targets and indices, the shape and the run
    fn single_run(
        &self,
        victim: &dyn Victim,
        x: &[f32],
        labels: &[u32],
        targets: Option<&[u32]>,
        indices: &[u64],
        shape: &[usize],
        like: &Tensor,
        seed: u64,
        rng: &mut SeededRng,
    ) -> Result<Run> {
        let c = &self.config;
        let b = labels.len();
        let per = x.len() / b.max(1);
        let eps = c.eps as f32;
        let device = like.device();
        let label_tensor = Tensor::from_slice(labels, b, device)?;
        let target_tensor = match targets {
            Some(t) => Some(Tensor::from_slice(t, b, device)?),
            None => None,
        };
        let loss = c.loss;
        let mut objective = |logits: &Tensor| -> Result<Tensor> {
            match (loss, &target_tensor) {
                (ApgdLoss::Ce, _) => cross_entropy_per_example(logits, &label_tensor),
                (ApgdLoss::Dlr, _) => dlr_loss(logits, &label_tensor),
                (ApgdLoss::TargetedDlr, Some(t)) => targeted_dlr_loss(logits, &label_tensor, t),
                (ApgdLoss::TargetedDlr, None) => Err(AttackError::InvalidConfig(
                    "APGD-T was run without targets".into(),
                )),
            }
        };
        let mut evaluate =
            |xa: &[f32], rng: &mut SeededRng| -> Result<(Vec<f32>, Vec<f32>, Vec<bool>)> {
                let t = Tensor::from_slice(xa, shape, device)?.to_dtype(like.dtype())?;
                let e = eot_gradient(victim, &t, c.eot_samples, &mut objective, true, rng)?;
                let grad: Vec<f32> = e.gradient.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
                if c.autoattack_rule {
                    let last = e.predictions.last().map_or_else(Vec::new, |p| {
                        p.iter().zip(labels).map(|(p, y)| p != y).collect()
                    });
                    return Ok((grad, e.last_objective, last));
                }
                let wrong = e
                    .wrong_draws(labels)
                    .into_iter()
                    .map(|w| 2 * w > c.eot_samples)
                    .collect();
                Ok((grad, e.objective, wrong))
            };
        let project = |v: f32, x0: f32| v.max(x0 - eps).min(x0 + eps).clamp(0.0, 1.0);

        // The start: x + ε·t / ‖t‖∞ with t uniform in [−1, 1], in [0, 1].
        let mut x_adv = Vec::with_capacity(x.len());
        for (i, &index) in indices.iter().enumerate() {
            let mut r = example_rng(seed, index);
            let t: Vec<f32> = (0..per)
                .map(|_| r.random_range(-1.0f64..=1.0) as f32)
                .collect();
            let norm = t.iter().fold(0f32, |m, v| m.max(v.abs())) + 1e-12;
            let row = &x[i * per..(i + 1) * per];
            x_adv.extend(
                row.iter()
                    .zip(&t)
                    .map(|(&x0, &t)| (x0 + eps * t / norm).clamp(0.0, 1.0)),
            );
        }
        let (mut grad, objective0, wrong) = evaluate(&x_adv, rng)?;
        let mut fooled = wrong;
        let mut x_best_adv = x_adv.clone();
        let mut x_best = x_adv.clone();
        let mut grad_best = grad.clone();
        let mut loss_best = objective0;
        let mut step = vec![2.0 * eps; b];
        let mut x_old = x_adv.clone();
        let schedule = Schedule::for_steps(c.steps);
        let mut k = schedule.first;
        let mut since_check = 0;
        let mut loss_steps: Vec<Vec<f32>> = vec![vec![0.0; b]; c.steps];
        let mut loss_best_last_check = loss_best.clone();
        let mut reduced_last_check = vec![true; b];
        for i in 0..c.steps {
            let a = if i > 0 { APGD_MOMENTUM } else { 1.0 };
            let mut next = Vec::with_capacity(x_adv.len());
            for (e, &eta) in step.iter().enumerate() {
                for q in e * per..(e + 1) * per {
                    let (xa, x0) = (x_adv[q], x[q]);
                    let momentum = xa - x_old[q];
                    let sign = if grad[q] > 0.0 {
                        1.0
                    } else if grad[q] < 0.0 {
                        -1.0
                    } else {
                        0.0
                    };
                    let z = project(xa + eta * sign, x0);
                    next.push(project(xa + (z - xa) * a + momentum * (1.0 - a), x0));
                }
            }
            x_old = std::mem::replace(&mut x_adv, next);
            let (g, loss_now, wrong) = evaluate(&x_adv, rng)?;
            grad = g;
            for e in 0..b {
                let rows = e * per..(e + 1) * per;
                if wrong[e] {
                    fooled[e] = true;
                    x_best_adv[rows.clone()].copy_from_slice(&x_adv[rows.clone()]);
                }
                if loss_now[e] > loss_best[e] {
                    x_best[rows.clone()].copy_from_slice(&x_adv[rows.clone()]);
                    grad_best[rows.clone()].copy_from_slice(&grad[rows]);
                    loss_best[e] = loss_now[e];
                }
            }
            loss_steps[i] = loss_now;
            since_check += 1;
            if since_check == k {
                for e in 0..b {
                    // AutoAttack's check_oscillation: how many of the last k
                    // steps raised the objective (index −1 wraps, as in
                    // Python, to a step not yet taken: 0).
                    let at = |j: isize| -> f32 {
                        let j = if j < 0 { j + c.steps as isize } else { j };
                        loss_steps[j as usize][e]
                    };
                    let rising = (0..k)
                        .filter(|&n| at(i as isize - n as isize) > at(i as isize - n as isize - 1))
                        .count();
                    let oscillating = rising as f32 <= k as f32 * c.rho as f32;
                    let no_progress =
                        !reduced_last_check[e] && loss_best_last_check[e] >= loss_best[e];
                    let reduce = oscillating || no_progress;
                    reduced_last_check[e] = reduce;
                    if reduce {
                        step[e] /= 2.0;
                        let rows = e * per..(e + 1) * per;
                        x_adv[rows.clone()].copy_from_slice(&x_best[rows.clone()]);
                        grad[rows.clone()].copy_from_slice(&grad_best[rows]);
                    }
                }
                loss_best_last_check = loss_best.clone();
                k = k.saturating_sub(schedule.decrease).max(schedule.min);
                since_check = 0;
            }
        }
        Ok(Run {
            fooled,
            adversarial: x_best_adv,
            best: x_best,
            best_objective: loss_best,
        })
    }
}

impl Attack for Apgd {
    fn name(&self) -> String {
        let c = &self.config;
        let kind = match c.loss {
            ApgdLoss::Ce => "apgd-ce",
            ApgdLoss::Dlr => "apgd-dlr",
            ApgdLoss::TargetedDlr => "apgd-t",
        };
        let mut s = format!(
            "{kind}(eps={}, steps={}",
            crate::attack::short_number(c.eps),
            c.steps
        );
        if c.loss == ApgdLoss::TargetedDlr {
            s += &format!(", targets={}", c.target_classes);
        }
        if c.restarts > 1 {
            s += &format!(", restarts={}", c.restarts);
        }
        if c.eot_samples > 1 {
            s += &format!(", eot={}", c.eot_samples);
        }
        if c.autoattack_rule {
            s += ", autoattack rule";
        }
        s + ")"
    }

    fn eps(&self) -> f64 {
        self.config.eps
    }

    fn perturb(
        &self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        rng: &mut SeededRng,
    ) -> Result<Perturbed> {
        let c = &self.config;
        let labels = batch.label_vec()?;
        let b = labels.len();
        let x0 = batch.images.detach();
        if b == 0 || c.eps == 0.0 {
            return Perturbed::unchanged(victim, x0, &labels, None, rng);
        }
        let classes = victim.num_classes();
        let needed = match c.loss {
            ApgdLoss::Ce => 2,
            ApgdLoss::Dlr => 3,
            ApgdLoss::TargetedDlr => 4,
        };
        if classes < needed {
            return Err(AttackError::InvalidConfig(format!(
                "{} needs at least {needed} classes, the model has {classes}",
                self.name()
            )));
        }
        if c.loss == ApgdLoss::TargetedDlr && c.target_classes >= classes {
            return Err(AttackError::InvalidConfig(format!(
                "APGD-T with {} target classes on a model of {classes} classes (at most {})",
                c.target_classes,
                classes - 1
            )));
        }
        let dims = x0.dims().to_vec();
        let per: usize = dims[1..].iter().product();
        let x: Vec<f32> = x0.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        // The clean images: the mean logits over the EOT draws rank the
        // target classes; a strict majority of wrong draws means the example
        // is broken already and is not attacked (AutoAttack attacks only the
        // points classified correctly).
        let mut mean_logits = vec![0f32; b * classes];
        let mut wrong = vec![0usize; b];
        let clean_draws = if c.autoattack_rule { 1 } else { c.eot_samples };
        for _ in 0..clean_draws {
            let z: Vec<Vec<f32>> = victim.logits(&x0, rng)?.to_dtype(DType::F32)?.to_vec2()?;
            for (i, row) in z.iter().enumerate() {
                let top = (0..classes)
                    .max_by(|&p, &q| row[p].total_cmp(&row[q]).then(q.cmp(&p)))
                    .unwrap_or(0);
                wrong[i] += usize::from(top as u32 != labels[i]);
                for (m, v) in mean_logits[i * classes..(i + 1) * classes]
                    .iter_mut()
                    .zip(row)
                {
                    *m += v / clean_draws as f32;
                }
            }
        }
        let mut fooled: Vec<bool> = wrong.iter().map(|&w| 2 * w > clean_draws).collect();
        let mut passes = vec![clean_draws; b];
        let mut out = x.clone();
        let mut best_objective = vec![f32::NEG_INFINITY; b];
        let rounds = if c.loss == ApgdLoss::TargetedDlr {
            c.target_classes
        } else {
            1
        };
        let mut run = 0;
        for round in 0..rounds {
            for _ in 0..c.restarts {
                let active: Vec<usize> = (0..b).filter(|&i| !fooled[i]).collect();
                if active.is_empty() {
                    break;
                }
                let rows: Vec<f32> = active
                    .iter()
                    .flat_map(|&i| x[i * per..(i + 1) * per].iter().copied())
                    .collect();
                let sub_labels: Vec<u32> = active.iter().map(|&i| labels[i]).collect();
                let indices: Vec<u64> = active.iter().map(|&i| batch.index(i)).collect();
                // The (round + 2)-th most likely class of the clean image.
                let targets: Option<Vec<u32>> = (c.loss == ApgdLoss::TargetedDlr).then(|| {
                    active
                        .iter()
                        .map(|&i| {
                            let row = &mean_logits[i * classes..(i + 1) * classes];
                            let mut order: Vec<usize> = (0..classes).collect();
                            order.sort_by(|&p, &q| row[q].total_cmp(&row[p]));
                            order[round + 1] as u32
                        })
                        .collect()
                });
                let mut shape = dims.clone();
                shape[0] = active.len();
                let result = self.single_run(
                    victim,
                    &rows,
                    &sub_labels,
                    targets.as_deref(),
                    &indices,
                    &shape,
                    &x0,
                    self.run_seed(run),
                    rng,
                )?;
                run += 1;
                for (j, &i) in active.iter().enumerate() {
                    passes[i] += (c.steps + 1) * c.eot_samples;
                    let dst = i * per..(i + 1) * per;
                    let src = j * per..(j + 1) * per;
                    if result.fooled[j] {
                        fooled[i] = true;
                        out[dst].copy_from_slice(&result.adversarial[src]);
                    } else if !c.autoattack_rule && result.best_objective[j] > best_objective[i] {
                        best_objective[i] = result.best_objective[j];
                        out[dst].copy_from_slice(&result.best[src]);
                    }
                }
            }
        }
        let adversarial = Tensor::from_vec(out, dims, x0.device())?.to_dtype(x0.dtype())?;
        let (predictions, success) = judge(victim, &adversarial, &labels, None, rng)?;
        Ok(Perturbed {
            adversarial,
            targets: None,
            predictions,
            success,
            forward_passes: passes,
        })
    }
}
