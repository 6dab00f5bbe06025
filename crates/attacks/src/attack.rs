//! The interface every attack implements.

use sgbn_estimators::SeededRng;

use crate::{Batch, Perturbed, Result, Victim};

/// An adversarial attack on a batch.
///
/// Contract (tested for every attack): the model is only run, never
/// changed; the input tensors are not modified; the result has the input's
/// shape and lies in `[0, 1]` and, unless the attack is configured otherwise
/// (the literal BIM), within ε of the input in ℓ∞; ε = 0 returns the input.
/// The model's randomness is drawn from `rng`; the attack's own random
/// choices come from per-example generators ([`example_rng`](crate::example_rng)).
pub trait Attack {
    /// A short description with its parameters, e.g. `bim(eps=0.1, step=0.01, steps=10)`.
    fn name(&self) -> String;

    /// Its ℓ∞ budget ε.
    fn eps(&self) -> f64;

    /// Perturbs `batch` against `victim`.
    fn perturb(
        &self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        rng: &mut SeededRng,
    ) -> Result<Perturbed>;
}
