//! The Square attack (Andriushchenko et al. 2020), ℓ∞, score-based: random
//! square-shaped updates at the corners of the ε-ball, kept when they lower
//! the margin. It never uses gradients, so a model that masks its gradients
//! (as a stochastic binarized network can) does not fool it.

use candle_core::Tensor;
use rand::Rng;
use sgbn_estimators::SeededRng;

use crate::{
    Attack, AttackError, Batch, Goal, Perturbed, Result, Victim, batch::judge, example_rng, margins,
};

/// Settings of the Square attack.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SquareAttackConfig {
    /// ℓ∞ budget ε ≥ 0.
    pub eps: f64,
    /// Query budget per example, the initialisation included.
    pub queries: usize,
    /// Initial share of pixels in the square, halved on AutoAttack's schedule
    /// (rescaled to the budget); 0.8 as in AutoAttack.
    pub p_init: f64,
    /// Untargeted (margin of the true class) or towards a target.
    pub goal: Goal,
    /// Forward passes averaged per query on a stochastic model (the margin
    /// is the mean over draws); 1 on deterministic models.
    pub eot_samples: usize,
    /// On a stochastic victim ([`Victim::is_stochastic`]), fresh passes that
    /// must confirm a success before an example stops: it stops only when a
    /// strict majority of them are fooled, as the evaluation's majority vote
    /// judges it; otherwise its objective becomes their mean margin and the
    /// search goes on. 1: the query's own draws decide (the rule before
    /// [`SQUARE_CONFIRM_DRAWS`] existed, which one lucky draw ends).
    /// Deterministic victims never confirm.
    #[serde(default = "one")]
    pub confirm_draws: usize,
    /// Seed of the attack's own random choices, per example.
    pub seed: u64,
}

fn one() -> usize {
    1
}

/// The fresh passes that confirm a Square success on a stochastic victim by
/// default ([`SquareAttackConfig::confirm_draws`]).
pub const SQUARE_CONFIRM_DRAWS: usize = 10;

impl SquareAttackConfig {
    /// The attack at budget `eps` with AutoAttack's other settings: 1,000
    /// queries, `p_init` 0.8, untargeted, one draw per query, seed 0, and a
    /// success on a stochastic victim confirmed by [`SQUARE_CONFIRM_DRAWS`]
    /// fresh passes. There is no `Default`: the budget depends on the data
    /// (MNIST 0.3, CIFAR-10 8/255) and is always the caller's.
    pub fn new(eps: f64) -> Self {
        Self {
            eps,
            queries: 1000,
            p_init: 0.8,
            goal: Goal::Untargeted,
            eot_samples: 1,
            confirm_draws: SQUARE_CONFIRM_DRAWS,
            seed: 0,
        }
    }

    /// Checks every value and names the bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AttackError::InvalidConfig(m));
        if !(self.eps.is_finite() && (0.0..=1.0).contains(&self.eps)) {
            return bad(format!("ε = {} must be in [0, 1]", self.eps));
        }
        if self.queries == 0 {
            return bad("the query budget must be ≥ 1".into());
        }
        if !(self.p_init > 0.0 && self.p_init <= 1.0) {
            return bad(format!("p_init = {} must be in (0, 1]", self.p_init));
        }
        if self.eot_samples == 0 {
            return bad("EOT samples must be ≥ 1".into());
        }
        if self.confirm_draws == 0 {
            return bad("confirm draws must be ≥ 1 (1: no confirmation)".into());
        }
        if self.goal == Goal::LeastLikely {
            return bad("the Square attack takes an untargeted, random or fixed-class goal".into());
        }
        Ok(())
    }
}

/// The Square attack.
#[derive(Debug, Clone, PartialEq)]
pub struct SquareAttack {
    config: SquareAttackConfig,
}

/// [`Perturbed`] plus, per example, the best objective after each of its
/// queries (the margin it minimises; non-increasing by construction, except
/// where fresh passes overturn a success on a stochastic victim: the objective
/// then becomes their mean margin, [`SquareAttackConfig::confirm_draws`]).
#[derive(Debug, Clone)]
pub struct SquareOutcome {
    /// The adversarial batch.
    pub perturbed: Perturbed,
    /// Per example, the best objective after each query it spent.
    pub best_objective: Vec<Vec<f32>>,
}

impl SquareAttack {
    /// A Square attack from a checked configuration.
    pub fn new(config: SquareAttackConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// Its configuration.
    pub fn config(&self) -> &SquareAttackConfig {
        &self.config
    }

    /// Share of pixels changed at iteration `it` (AutoAttack's schedule,
    /// rescaled from 10,000 queries to the budget).
    pub fn p_selection(&self, it: usize) -> f64 {
        let it = (it as f64 / self.config.queries as f64 * 10_000.0) as usize;
        let div = match it {
            0..=10 => 1.0,
            11..=50 => 2.0,
            51..=200 => 4.0,
            201..=500 => 8.0,
            501..=1000 => 16.0,
            1001..=2000 => 32.0,
            2001..=4000 => 64.0,
            4001..=6000 => 128.0,
            6001..=8000 => 256.0,
            _ => 512.0,
        };
        self.config.p_init / div
    }

    /// Runs the attack and keeps the objective history.
    pub fn run(
        &self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        rng: &mut SeededRng,
    ) -> Result<SquareOutcome> {
        let c = &self.config;
        let labels = batch.label_vec()?;
        let b = labels.len();
        let x0 = batch.images.detach();
        let targets = c.goal.targets(victim, batch, c.seed, rng)?;
        if b == 0 || c.eps == 0.0 {
            return Ok(SquareOutcome {
                perturbed: Perturbed::unchanged(victim, x0, &labels, targets, rng)?,
                best_objective: vec![Vec::new(); b],
            });
        }
        let dims = x0.dims().to_vec();
        let (ch, h, w) = (dims[1], dims[2], dims[3]);
        let per = ch * h * w;
        let clean: Vec<f32> = x0
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let eps = c.eps as f32;
        let aim: Vec<u32> = targets.clone().unwrap_or_else(|| labels.clone());
        let sign = if targets.is_some() { -1.0f32 } else { 1.0 };
        let mut rngs: Vec<SeededRng> = (0..b)
            .map(|i| example_rng(c.seed, batch.index(i)))
            .collect();

        // Vertical stripes of ±ε (one sign per channel and column).
        let mut best: Vec<Vec<f32>> = (0..b)
            .map(|i| {
                let x = &clean[i * per..(i + 1) * per];
                let mut v = x.to_vec();
                for k in 0..ch {
                    for col in 0..w {
                        let s = if rngs[i].random::<bool>() { eps } else { -eps };
                        for row in 0..h {
                            let p = k * h * w + row * w + col;
                            v[p] = (x[p] + s).clamp(0.0, 1.0);
                        }
                    }
                }
                v
            })
            .collect();
        let mut best_obj = self.objective(victim, &best, &aim, sign, &x0, rng)?;
        let mut queries = vec![1usize; b];
        let confirm = if victim.is_stochastic() {
            c.confirm_draws
        } else {
            1
        };
        let mut confirm_passes = vec![0usize; b];
        let all: Vec<usize> = (0..b).collect();
        self.confirm(
            victim,
            confirm,
            &all,
            &best,
            &aim,
            sign,
            &x0,
            &mut best_obj,
            &mut confirm_passes,
            rng,
        )?;
        let mut history: Vec<Vec<f32>> = best_obj.iter().map(|&o| vec![o]).collect();

        for it in 1..c.queries {
            let active: Vec<usize> = (0..b).filter(|&i| best_obj[i] > 0.0).collect();
            if active.is_empty() {
                break;
            }
            let p = self.p_selection(it);
            let side = ((p * (h * w) as f64).sqrt().round() as usize).clamp(1, h.min(w));
            let candidates: Vec<Vec<f32>> = active
                .iter()
                .map(|&i| {
                    let x = &clean[i * per..(i + 1) * per];
                    let r = &mut rngs[i];
                    let vh = r.random_range(0..=h - side);
                    let vw = r.random_range(0..=w - side);
                    let mut cand = best[i].clone();
                    // Resample the signs until the window changes (it always
                    // can unless clipping pins every pixel).
                    for _ in 0..16 {
                        let mut changed = false;
                        for k in 0..ch {
                            let s = if r.random::<bool>() { eps } else { -eps };
                            for row in vh..vh + side {
                                for col in vw..vw + side {
                                    let q = k * h * w + row * w + col;
                                    let v = (x[q] + s).clamp(0.0, 1.0);
                                    changed |= (v - best[i][q]).abs() >= 1e-7;
                                    cand[q] = v;
                                }
                            }
                        }
                        if changed {
                            break;
                        }
                    }
                    cand
                })
                .collect();
            let aim_active: Vec<u32> = active.iter().map(|&i| aim[i]).collect();
            let obj = self.objective(victim, &candidates, &aim_active, sign, &x0, rng)?;
            for (j, (&i, cand)) in active.iter().zip(candidates).enumerate() {
                queries[i] += 1;
                // Active examples have a positive objective, so a candidate
                // that succeeds (≤ 0) is also an improvement.
                if obj[j] < best_obj[i] {
                    best_obj[i] = obj[j];
                    best[i] = cand;
                }
            }
            self.confirm(
                victim,
                confirm,
                &active,
                &best,
                &aim,
                sign,
                &x0,
                &mut best_obj,
                &mut confirm_passes,
                rng,
            )?;
            for &i in &active {
                history[i].push(best_obj[i]);
            }
        }

        let flat: Vec<f32> = best.concat();
        let adversarial = Tensor::from_vec(flat, dims, x0.device())?.to_dtype(x0.dtype())?;
        let (predictions, success) = judge(victim, &adversarial, &labels, targets.as_deref(), rng)?;
        Ok(SquareOutcome {
            perturbed: Perturbed {
                adversarial,
                targets,
                predictions,
                success,
                forward_passes: queries
                    .iter()
                    .zip(&confirm_passes)
                    .map(|(q, extra)| q * c.eot_samples + extra)
                    .collect(),
            },
            best_objective: history,
        })
    }

    /// With `draws > 1`: the examples of `candidates` whose best objective
    /// reached ≤ 0 are judged by `draws` fresh passes; an example stays done
    /// only if a strict majority of them are fooled, else its objective
    /// becomes their mean (kept above 0, so that the search goes on).
    #[allow(clippy::too_many_arguments)] // the state of the search it updates
    fn confirm(
        &self,
        victim: &dyn Victim,
        draws: usize,
        candidates: &[usize],
        best: &[Vec<f32>],
        aim: &[u32],
        sign: f32,
        like: &Tensor,
        best_obj: &mut [f32],
        passes: &mut [usize],
        rng: &mut SeededRng,
    ) -> Result<()> {
        if draws <= 1 {
            return Ok(());
        }
        let done: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| best_obj[i] <= 0.0)
            .collect();
        if done.is_empty() {
            return Ok(());
        }
        let images: Vec<Vec<f32>> = done.iter().map(|&i| best[i].clone()).collect();
        let aims: Vec<u32> = done.iter().map(|&i| aim[i]).collect();
        let mut shape = like.dims().to_vec();
        shape[0] = done.len();
        let x = Tensor::from_vec(images.concat(), shape, like.device())?.to_dtype(like.dtype())?;
        let mut fooled = vec![0usize; done.len()];
        let mut sum = vec![0f32; done.len()];
        for _ in 0..draws {
            let m = margins(&victim.logits(&x, rng)?, &aims)?;
            for (j, m) in m.into_iter().enumerate() {
                let o = sign * m;
                sum[j] += o;
                fooled[j] += usize::from(o <= 0.0);
            }
        }
        for (j, &i) in done.iter().enumerate() {
            passes[i] += draws;
            if 2 * fooled[j] <= draws {
                best_obj[i] = (sum[j] / draws as f32).max(f32::MIN_POSITIVE);
            }
        }
        Ok(())
    }

    /// The objective of each image in `images` (host rows), averaged over
    /// the EOT samples: `margin(z, y)` untargeted, `−margin(z, t)` targeted.
    fn objective(
        &self,
        victim: &dyn Victim,
        images: &[Vec<f32>],
        aim: &[u32],
        sign: f32,
        like: &Tensor,
        rng: &mut SeededRng,
    ) -> Result<Vec<f32>> {
        let dims = like.dims();
        let mut shape = dims.to_vec();
        shape[0] = images.len();
        let x = Tensor::from_vec(images.concat(), shape, like.device())?.to_dtype(like.dtype())?;
        let mut sum = vec![0f32; images.len()];
        for _ in 0..self.config.eot_samples {
            let logits = victim.logits(&x, rng)?;
            for (s, m) in sum.iter_mut().zip(margins(&logits, aim)?) {
                *s += sign * m;
            }
        }
        let k = self.config.eot_samples as f32;
        Ok(sum.into_iter().map(|s| s / k).collect())
    }
}

impl Attack for SquareAttack {
    fn name(&self) -> String {
        let c = &self.config;
        let mut s = format!(
            "square(eps={}, queries={}",
            crate::attack::short_number(c.eps),
            c.queries
        );
        if c.eot_samples > 1 {
            s += &format!(", eot={}", c.eot_samples);
        }
        if c.confirm_draws != SQUARE_CONFIRM_DRAWS {
            s += &format!(", confirm={}", c.confirm_draws);
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
        Ok(self.run(victim, batch, rng)?.perturbed)
    }
}
