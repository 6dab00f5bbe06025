//! Input gradients of the attack objective, averaged over draws of the
//! model's randomness (expectation over transformation, EOT).

use candle_core::{Tensor, Var};
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
    if eot_samples == 0 {
        return Err(AttackError::InvalidConfig(
            "EOT needs at least one sample of the model's randomness".into(),
        ));
    }
    let mut sum: Option<Tensor> = None;
    for _ in 0..eot_samples {
        let xv = Var::from_tensor(&x.detach())?;
        let logits = victim.logits(xv.as_tensor(), rng)?;
        let loss = match labels {
            Some((labels, towards)) => {
                let loss = cross_entropy_per_example(&logits, labels)?.sum_all()?;
                if towards { loss.neg()? } else { loss }
            }
            None => {
                let own = logits.detach().argmax(candle_core::D::Minus1)?;
                cross_entropy_per_example(&logits, &own)?.sum_all()?
            }
        };
        let grads = loss.backward()?;
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
    if eot_samples == 1 {
        Ok(sum)
    } else {
        Ok((sum / eot_samples as f64)?)
    }
}
