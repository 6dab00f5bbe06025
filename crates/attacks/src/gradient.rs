//! Input gradients of the attack objective, averaged over draws of the
//! model's randomness (expectation over transformation, EOT).

use candle_core::{DType, Tensor, Var};
use sgbn_estimators::SeededRng;

use crate::{AttackError, Result, Victim, cross_entropy_per_example};

/// ∇ₓ of the summed per-example cross-entropy at `labels`, averaged over
/// `eot_samples` forward/backward passes, each drawing fresh model
/// randomness from `rng` (Athalye et al. 2018; AutoAttack's `eot_iter`).
///
/// The loss is summed over the batch, not averaged, so each example's
/// gradient does not depend on the batch size. With `eot_samples = 1` this is
/// the plain gradient. A model whose output does not depend on `x` gets a zero
/// gradient (the sanity checks in `sgbn-metrics` flag it).
pub fn loss_gradient(
    victim: &dyn Victim,
    x: &Tensor,
    labels: &Tensor,
    eot_samples: usize,
    rng: &mut SeededRng,
) -> Result<Tensor> {
    objective_gradient(victim, x, labels, false, eot_samples, rng)
}

/// ∇ₓ of the attack objective: `+Σ CE(z, labels)` untargeted, `−Σ CE(z,
/// labels)` when `towards` (labels are then targets). EOT as in
/// [`loss_gradient`].
pub fn objective_gradient(
    victim: &dyn Victim,
    x: &Tensor,
    labels: &Tensor,
    towards: bool,
    eot_samples: usize,
    rng: &mut SeededRng,
) -> Result<Tensor> {
    gradient_of(victim, x, Some((labels, towards)), eot_samples, rng)
}

/// ∇ₓ of `Σ CE(z, argmax z)`: the loss at the model's own prediction of
/// each forward pass ([`LabelSource::Predicted`](crate::LabelSource),
/// CleverHans v1). EOT as in [`loss_gradient`], each pass with its own
/// prediction.
pub fn own_prediction_gradient(
    victim: &dyn Victim,
    x: &Tensor,
    eot_samples: usize,
    rng: &mut SeededRng,
) -> Result<Tensor> {
    gradient_of(victim, x, None, eot_samples, rng)
}

/// The gradient at `labels` (and the sign: `towards`), or at each pass's
/// own prediction when `None`.
fn gradient_of(
    victim: &dyn Victim,
    x: &Tensor,
    labels: Option<(&Tensor, bool)>,
    eot_samples: usize,
    rng: &mut SeededRng,
) -> Result<Tensor> {
    let mut objective = |logits: &Tensor| -> Result<Tensor> {
        match labels {
            Some((labels, towards)) => {
                let loss = cross_entropy_per_example(logits, labels)?;
                Ok(if towards { loss.neg()? } else { loss })
            }
            None => {
                let own = logits.detach().argmax(candle_core::D::Minus1)?;
                cross_entropy_per_example(logits, &own)
            }
        }
    };
    Ok(eot_gradient(victim, x, eot_samples, &mut objective, false, rng)?.gradient)
}

/// What [`eot_gradient`] measured besides the gradient.
#[derive(Debug, Clone)]
pub(crate) struct EotGradient {
    /// ∇ₓ of the summed per-example objective, averaged over the draws.
    pub gradient: Tensor,
    /// Per example, the objective averaged over the draws (with `stats`).
    pub objective: Vec<f32>,
    /// Each draw's predictions (with `stats`).
    pub predictions: Vec<Vec<u32>>,
    /// Per example, the last draw's objective (with `stats`).
    pub last_objective: Vec<f32>,
}

impl EotGradient {
    /// Per example, the number of draws whose prediction differs from its label.
    pub fn wrong_draws(&self, labels: &[u32]) -> Vec<usize> {
        let mut wrong = vec![0usize; labels.len()];
        for draw in &self.predictions {
            for ((w, p), y) in wrong.iter_mut().zip(draw).zip(labels) {
                *w += usize::from(p != y);
            }
        }
        wrong
    }
}

/// ∇ₓ of `Σᵢ objective(z)ᵢ` averaged over `eot_samples` forward/backward
/// passes, each drawing fresh model randomness from `rng`. `objective` maps
/// the logits `(B, K)` to a per-example `(B,)` objective. With `stats`, the
/// per-example objective (mean over the draws) and each draw's predictions
/// are kept too. The one EOT loop of every gradient attack.
pub(crate) fn eot_gradient(
    victim: &dyn Victim,
    x: &Tensor,
    eot_samples: usize,
    objective: &mut dyn FnMut(&Tensor) -> Result<Tensor>,
    stats: bool,
    rng: &mut SeededRng,
) -> Result<EotGradient> {
    if eot_samples == 0 {
        return Err(AttackError::InvalidConfig(
            "EOT needs at least one sample of the model's randomness".into(),
        ));
    }
    let mut sum: Option<Tensor> = None;
    let mut objective_sum: Vec<f32> = Vec::new();
    let mut predictions = Vec::new();
    let mut last_objective = Vec::new();
    for _ in 0..eot_samples {
        let xv = Var::from_tensor(&x.detach())?;
        let logits = victim.logits(xv.as_tensor(), rng)?;
        let per_example = objective(&logits)?;
        if stats {
            let values: Vec<f32> = per_example.detach().to_dtype(DType::F32)?.to_vec1()?;
            last_objective.clone_from(&values);
            if objective_sum.is_empty() {
                objective_sum = values;
            } else {
                for (s, v) in objective_sum.iter_mut().zip(values) {
                    *s += v;
                }
            }
            predictions.push(
                logits
                    .detach()
                    .argmax(candle_core::D::Minus1)?
                    .to_vec1::<u32>()?,
            );
        }
        let grads = per_example.sum_all()?.backward()?;
        let g = match grads.get(xv.as_tensor()) {
            Some(g) => g.detach(),
            None => xv.as_tensor().zeros_like()?,
        };
        sum = Some(match sum {
            None => g,
            Some(s) => (s + g)?,
        });
    }
    let sum = sum.ok_or_else(|| AttackError::InvalidConfig("no EOT sample".into()))?;
    let gradient = if eot_samples == 1 {
        sum
    } else {
        (sum / eot_samples as f64)?
    };
    let k = eot_samples as f32;
    Ok(EotGradient {
        gradient,
        objective: objective_sum.into_iter().map(|s| s / k).collect(),
        predictions,
        last_objective,
    })
}
