//! Attack suites run as AutoAttack runs them (Croce & Hein 2020): attacks in
//! turn, each only on the images still classified correctly, so that an
//! image counts as robust only if it survives every attack, and cost falls as
//! the suite goes.

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};
use sgbn_estimators::SeededRng;

use crate::{
    Apgd, Attack, AttackError, Batch, Perturbed, Result, SquareAttack, SquareAttackConfig, Victim,
    batch::{judge, predict},
};

/// Fresh passes that judge each image after each attack of a suite: an image
/// survives when a strict majority of them classify it correctly.
pub const SUITE_JUDGE_PASSES: usize = 10;

/// The EOT draws of AutoAttack's `rand` version.
pub const RAND_EOT_SAMPLES: usize = 20;

/// The Square queries of AutoAttack's `standard` version.
pub const STANDARD_SQUARE_QUERIES: usize = 5000;

/// Which of AutoAttack's suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuiteVersion {
    /// APGD-CE, APGD-T (9 targets) and Square (5,000 queries): AutoAttack's
    /// `standard` without FAB-T (not implemented: docs/attacks.md says why).
    Standard,
    /// APGD-CE and APGD-DLR with EOT over 20 draws: AutoAttack's `rand`, for
    /// randomized defenses.
    Rand,
}

/// A suite of attacks with the per-image worst case as its result.
#[derive(Debug)]
pub struct AttackSuite {
    name: String,
    eps: f64,
    attacks: Vec<Box<dyn Attack + Send + Sync>>,
    judge_passes: usize,
}

impl std::fmt::Debug for dyn Attack + Send + Sync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// [`Perturbed`] plus how many images were still robust after each attack.
#[derive(Debug, Clone)]
pub struct SuiteOutcome {
    /// The per-image worst case: for each image, the adversarial image of the
    /// first attack that broke it, else the one on which the fewest judging
    /// passes were right (the clean image where the clean image is already
    /// misclassified).
    pub perturbed: Perturbed,
    /// Images robust on the clean input, by the judging passes.
    pub clean_robust: usize,
    /// Per attack of the suite: its name and the images still robust after it.
    pub robust_after: Vec<(String, usize)>,
}

impl AttackSuite {
    /// A suite of `attacks` at budget `eps` (each must have that budget),
    /// judging every image by `judge_passes` fresh passes.
    ///
    /// # Errors
    /// No attack, an attack of another budget, or zero judging passes.
    pub fn new(
        name: impl Into<String>,
        eps: f64,
        attacks: Vec<Box<dyn Attack + Send + Sync>>,
        judge_passes: usize,
    ) -> Result<Self> {
        if attacks.is_empty() {
            return Err(AttackError::InvalidConfig("a suite needs an attack".into()));
        }
        if judge_passes == 0 {
            return Err(AttackError::InvalidConfig(
                "a suite needs at least one judging pass".into(),
            ));
        }
        if let Some(a) = attacks.iter().find(|a| (a.eps() - eps).abs() > 1e-12) {
            return Err(AttackError::InvalidConfig(format!(
                "{} has another budget than the suite's ε = {eps}",
                a.name()
            )));
        }
        Ok(Self {
            name: name.into(),
            eps,
            attacks,
            judge_passes,
        })
    }

    /// AutoAttack's `version` at `eps` with its defaults, seed `seed`, each
    /// image judged by [`SUITE_JUDGE_PASSES`] passes.
    pub fn autoattack(version: SuiteVersion, eps: f64, seed: u64) -> Result<Self> {
        let attacks: Vec<Box<dyn Attack + Send + Sync>> = match version {
            SuiteVersion::Standard => vec![
                Box::new(Apgd::ce(eps)?.with_seed(seed)),
                Box::new(Apgd::targeted(eps, 9)?.with_seed(seed)),
                Box::new(SquareAttack::new(SquareAttackConfig {
                    queries: STANDARD_SQUARE_QUERIES,
                    seed,
                    ..SquareAttackConfig::new(eps)
                })?),
            ],
            SuiteVersion::Rand => vec![
                Box::new(Apgd::ce(eps)?.with_eot(RAND_EOT_SAMPLES)?.with_seed(seed)),
                Box::new(Apgd::dlr(eps)?.with_eot(RAND_EOT_SAMPLES)?.with_seed(seed)),
            ],
        };
        let name = match version {
            SuiteVersion::Standard => "autoattack-standard",
            SuiteVersion::Rand => "autoattack-rand",
        };
        Self::new(name, eps, attacks, SUITE_JUDGE_PASSES)
    }

    /// The names of its attacks, in order.
    pub fn attack_names(&self) -> Vec<String> {
        self.attacks.iter().map(|a| a.name()).collect()
    }

    /// Per image, how many of the judging passes classify `x` correctly.
    fn correct_passes(
        &self,
        victim: &dyn Victim,
        x: &Tensor,
        labels: &[u32],
        rng: &mut SeededRng,
    ) -> Result<Vec<usize>> {
        let mut right = vec![0usize; labels.len()];
        for _ in 0..self.judge_passes {
            for ((r, p), y) in right.iter_mut().zip(predict(victim, x, rng)?).zip(labels) {
                *r += usize::from(p == *y);
            }
        }
        Ok(right)
    }

    /// Runs the suite and keeps how many images each attack left robust.
    pub fn run(
        &self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        rng: &mut SeededRng,
    ) -> Result<SuiteOutcome> {
        let labels = batch.label_vec()?;
        let b = labels.len();
        let x0 = batch.images.detach();
        let robust = |right: usize| 2 * right > self.judge_passes;
        if b == 0 {
            return Ok(SuiteOutcome {
                perturbed: Perturbed {
                    adversarial: x0,
                    targets: None,
                    predictions: Vec::new(),
                    success: Vec::new(),
                    forward_passes: Vec::new(),
                },
                clean_robust: 0,
                robust_after: self.attacks.iter().map(|a| (a.name(), 0)).collect(),
            });
        }
        let dims = x0.dims().to_vec();
        let per: usize = dims[1..].iter().product();
        let mut worst: Vec<f32> = x0.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let mut right = self.correct_passes(victim, &x0, &labels, rng)?;
        let clean_robust = right.iter().filter(|&&r| robust(r)).count();
        let mut passes = vec![self.judge_passes; b];
        let mut robust_after = Vec::new();
        for attack in &self.attacks {
            let active: Vec<usize> = (0..b).filter(|&i| robust(right[i])).collect();
            if !active.is_empty() {
                let pick = Tensor::from_vec(
                    active.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                    active.len(),
                    x0.device(),
                )?;
                let images = x0.index_select(&pick, 0)?;
                let sub_labels: Vec<u32> = active.iter().map(|&i| labels[i]).collect();
                let label_tensor = Tensor::from_slice(&sub_labels, active.len(), x0.device())?;
                let indices: Vec<u64> = active.iter().map(|&i| batch.index(i)).collect();
                let sub = Batch::new(&images, &label_tensor)?.with_indices(&indices)?;
                let out = attack.perturb(victim, &sub, rng)?;
                let now = self.correct_passes(victim, &out.adversarial, &sub_labels, rng)?;
                let rows: Vec<f32> = out
                    .adversarial
                    .to_dtype(DType::F32)?
                    .flatten_all()?
                    .to_vec1()?;
                for (j, &i) in active.iter().enumerate() {
                    passes[i] += out.forward_passes[j] + self.judge_passes;
                    if now[j] < right[i] {
                        right[i] = now[j];
                        worst[i * per..(i + 1) * per]
                            .copy_from_slice(&rows[j * per..(j + 1) * per]);
                    }
                }
            }
            robust_after.push((attack.name(), right.iter().filter(|&&r| robust(r)).count()));
        }
        let adversarial = Tensor::from_vec(worst, dims, x0.device())?.to_dtype(x0.dtype())?;
        let (predictions, success) = judge(victim, &adversarial, &labels, None, rng)?;
        Ok(SuiteOutcome {
            perturbed: Perturbed {
                adversarial,
                targets: None,
                predictions,
                success,
                forward_passes: passes,
            },
            clean_robust,
            robust_after,
        })
    }
}

impl Attack for AttackSuite {
    fn name(&self) -> String {
        format!(
            "{}(eps={}: {})",
            self.name,
            crate::attack::short_number(self.eps),
            self.attack_names().join(", ")
        )
    }

    fn eps(&self) -> f64 {
        self.eps
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
