//! Accuracy over repeated stochastic forward passes.

use candle_core::Tensor;
use sgbn_attacks::{Victim, predict_dataset};
use sgbn_estimators::SeededRng;

use crate::{MetricsError, Result, RunSummary};

/// How [`RepeatedAccuracy::measure`] runs: named fields, so that the two
/// counts cannot be swapped unnoticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passes {
    /// Forward passes over the whole set (≥ 1).
    pub repeats: usize,
    /// Images per forward pass (≥ 1).
    pub batch_size: usize,
}

/// Accuracy of `R` independent forward passes over the same images: per
/// pass, its mean ± std, the accuracy of the per-example majority vote, and
/// how often the passes disagree (a deterministic model never does).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RepeatedAccuracy {
    /// Accuracy of each pass.
    pub per_pass: Vec<f64>,
    /// Mean ± std of `per_pass`.
    pub summary: RunSummary,
    /// Accuracy of the majority vote of the passes per example (ties go to
    /// the lowest class index).
    pub majority_vote: f64,
    /// Share of examples whose predictions are not the same in every pass.
    pub unstable_fraction: f64,
    /// Number of examples.
    pub examples: usize,
}

impl RepeatedAccuracy {
    /// Runs `passes.repeats` passes of `victim` over `images` / u32 `labels`
    /// in batches of `passes.batch_size`, drawing the model's randomness
    /// from `rng`.
    pub fn measure(
        victim: &dyn Victim,
        images: &Tensor,
        labels: &Tensor,
        passes: Passes,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let Passes {
            repeats,
            batch_size,
        } = passes;
        if repeats == 0 {
            return Err(MetricsError::InvalidArgument(
                "repeated accuracy needs at least one pass".into(),
            ));
        }
        let truth: Vec<u32> = labels.to_vec1()?;
        if images.dim(0)? != truth.len() {
            return Err(MetricsError::Mismatch(format!(
                "{} images for {} labels",
                images.dim(0)?,
                truth.len()
            )));
        }
        let passes: Vec<Vec<u32>> = (0..repeats)
            .map(|_| predict_dataset(victim, images, batch_size, rng))
            .collect::<std::result::Result<_, _>>()?;
        Self::from_predictions(&passes, &truth, victim.num_classes())
    }

    /// The same figures from predictions already made (`passes[r][i]`).
    pub fn from_predictions(passes: &[Vec<u32>], truth: &[u32], classes: usize) -> Result<Self> {
        if passes.is_empty() || passes.iter().any(|p| p.len() != truth.len()) {
            return Err(MetricsError::Mismatch(
                "every pass needs one prediction per label".into(),
            ));
        }
        let n = truth.len();
        let frac = |c: usize| if n == 0 { 0.0 } else { c as f64 / n as f64 };
        let per_pass: Vec<f64> = passes
            .iter()
            .map(|p| frac(p.iter().zip(truth).filter(|(a, b)| a == b).count()))
            .collect();
        let mut votes_right = 0;
        let mut unstable = 0;
        for (i, &y) in truth.iter().enumerate() {
            let mut counts = vec![0usize; classes.max(1)];
            for p in passes {
                let c = p[i] as usize;
                if c >= counts.len() {
                    counts.resize(c + 1, 0);
                }
                counts[c] += 1;
            }
            let best = counts
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |(c, _)| c);
            if best as u32 == y {
                votes_right += 1;
            }
            if passes.iter().any(|p| p[i] != passes[0][i]) {
                unstable += 1;
            }
        }
        Ok(Self {
            summary: RunSummary::of(&per_pass)?,
            per_pass,
            majority_vote: frac(votes_right),
            unstable_fraction: frac(unstable),
            examples: n,
        })
    }
}
