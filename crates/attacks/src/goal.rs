//! What an attack aims for: any wrong class, or a chosen target class.

use candle_core::{D, DType};
use rand::Rng;
use sgbn_estimators::SeededRng;

use crate::{AttackError, Batch, Result, Victim, example_rng};

/// Untargeted or targeted, and how the target is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Goal {
    /// Raise the loss of the true class (FGSM, BIM, PGD).
    Untargeted,
    /// Lower the loss of the class the model finds least likely on the clean
    /// input, fixed once before the first step (ILL, eq. 2.28).
    LeastLikely,
    /// Lower the loss of a class drawn uniformly among the wrong ones, per
    /// example, from the example's generator.
    RandomTarget,
    /// Lower the loss of this class for every example.
    Class(u32),
}

impl Goal {
    /// Whether the attack descends towards a target.
    pub fn is_targeted(self) -> bool {
        self != Self::Untargeted
    }

    /// The target class of each example (`None` when untargeted). The
    /// least-likely class costs one forward pass on the clean batch, drawing
    /// from `rng`.
    pub fn targets(
        self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        seed: u64,
        rng: &mut SeededRng,
    ) -> Result<Option<Vec<u32>>> {
        let labels = batch.label_vec()?;
        Ok(match self {
            Self::Untargeted => None,
            Self::LeastLikely => {
                if labels.is_empty() {
                    return Ok(Some(Vec::new()));
                }
                let logits = victim.logits(&batch.images.detach(), rng)?;
                Some(
                    logits
                        .to_dtype(DType::F32)?
                        .argmin(D::Minus1)?
                        .to_vec1::<u32>()?,
                )
            }
            Self::RandomTarget => {
                if labels.is_empty() {
                    return Ok(Some(Vec::new()));
                }
                let classes = victim.num_classes() as u32;
                if classes < 2 {
                    return Err(AttackError::InvalidConfig(
                        "a random target needs at least two classes".into(),
                    ));
                }
                Some(
                    labels
                        .iter()
                        .enumerate()
                        .map(|(i, &y)| {
                            let mut r = example_rng(seed, batch.index(i));
                            let t = r.random_range(0..classes - 1);
                            if t >= y { t + 1 } else { t }
                        })
                        .collect(),
                )
            }
            Self::Class(c) => Some(vec![c; labels.len()]),
        })
    }
}
