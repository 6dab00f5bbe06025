//! PGD adversarial examples for adversarial training (Madry et al. 2018;
//! thesis eq. 2.29, §4.3.1).

use candle_core::{Tensor, Var};
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_models::{
    AdversarialTraining, Classifier, ForwardContext, PixelBox, cross_entropy_per_example,
};

use crate::Result;

/// PGD examples for a training batch: a uniform random start in the ε-ball,
/// then `steps` steps `x ← Π(x + step·sign(∇ₓ L))`, projected onto the ε-ball
/// around `x` and onto [0, 1] after each step; `L` is the batch-mean
/// cross-entropy with the true labels.
///
/// The model runs in evaluation mode (batch-norm running statistics, which
/// crafting must not update; stochastic units keep sampling from `rng`).
/// The loss and the projected sign step are the attacks' own
/// ([`cross_entropy_per_example`], [`PixelBox`], in `sgbn-models`); this
/// loop differs from `sgbn-attacks`' PGD in what training needs: the
/// batch-mean loss through `Classifier::forward` at the training slope, and
/// a random start drawn from the training generator.
pub fn pgd_training_examples(
    model: &dyn Classifier,
    x: &Tensor,
    y: &Tensor,
    adversarial: &AdversarialTraining,
    slope: f64,
    rng: &mut SeededRng,
) -> Result<Tensor> {
    let eps = adversarial.eps;
    let bounds = PixelBox::linf_ball(x, eps)?;
    let start = ((uniform_like(x, rng)? * (2.0 * eps))? - eps)?;
    // The start lies in the ε-ball, so only the pixel range clips it.
    let mut adv = bounds.project(&(x + start)?)?;
    for _ in 0..adversarial.steps {
        let var = Var::from_tensor(&adv.detach())?;
        let logits = model.forward(var.as_tensor(), ForwardContext::eval(slope), rng)?;
        let loss = cross_entropy_per_example(&logits, y)?.mean(0)?;
        let grads = loss.backward()?;
        // No gradient at all (e.g. a model whose output ignores its input):
        // the step is zero.
        let gradient = match grads.get(var.as_tensor()) {
            Some(g) => g.clone(),
            None => adv.zeros_like()?,
        };
        adv = bounds.sign_step(var.as_tensor(), &gradient, adversarial.step)?;
    }
    Ok(adv.detach())
}
