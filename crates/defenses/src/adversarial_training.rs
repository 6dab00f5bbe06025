//! PGD adversarial examples for adversarial training (Madry et al. 2018;
//! thesis eq. 2.29, §4.3.1).

use candle_core::{Tensor, Var};
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_models::{AdversarialTraining, Classifier, ForwardContext};

use crate::Result;

/// PGD examples for a training batch: a uniform random start in the ε-ball,
/// then `steps` steps `x ← Π(x + step·sign(∇ₓ L))`, projected onto the ε-ball
/// around `x` and onto [0, 1] after each step; `L` is the batch-mean
/// cross-entropy with the true labels.
///
/// The model runs in evaluation mode (batch-norm running statistics, which
/// crafting must not update; stochastic units keep sampling from `rng`).
/// The evaluation attacks live in `sgbn-attacks`; this copy of the PGD step
/// serves training only, so that the defence crate does not depend on the
/// attack crate (docs/ARCHITECTURE.md).
pub fn pgd_training_examples(
    model: &dyn Classifier,
    x: &Tensor,
    y: &Tensor,
    adversarial: &AdversarialTraining,
    slope: f64,
    rng: &mut SeededRng,
) -> Result<Tensor> {
    let eps = adversarial.eps;
    let lo = (x - eps)?.clamp(0.0, 1.0)?;
    let hi = (x + eps)?.clamp(0.0, 1.0)?;
    let start = ((uniform_like(x, rng)? * (2.0 * eps))? - eps)?;
    let mut adv = (x + start)?.clamp(0.0, 1.0)?;
    for _ in 0..adversarial.steps {
        let var = Var::from_tensor(&adv.detach())?;
        let logits = model.forward(var.as_tensor(), ForwardContext::eval(slope), rng)?;
        let loss = candle_nn::loss::cross_entropy(&logits, y)?;
        let grads = loss.backward()?;
        // No gradient at all (e.g. a model whose output ignores its input):
        // the step is zero.
        let step = match grads.get(var.as_tensor()) {
            Some(g) => (g.sign()? * adversarial.step)?,
            None => adv.zeros_like()?,
        };
        adv = (var.as_tensor() + step)?.maximum(&lo)?.minimum(&hi)?;
    }
    Ok(adv.detach())
}
