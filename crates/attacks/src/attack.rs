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

/// A budget or step for an attack's name: as written when short (`0.3`),
/// as `k/255` when it is one (`8/255`, not `0.03137254901960784`), else
/// to six decimals.
pub(crate) fn short_number(x: f64) -> String {
    let plain = format!("{x}");
    let decimals = plain.split_once('.').map_or(0, |(_, d)| d.len());
    if decimals <= 6 {
        return plain;
    }
    let k = (x * 255.0).round();
    if (x * 255.0 - k).abs() < 1e-9 && k != 0.0 {
        return format!("{k}/255");
    }
    let six = format!("{x:.6}");
    six.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn budgets_print_short() {
        assert_eq!(short_number(0.3), "0.3");
        assert_eq!(short_number(8.0 / 255.0), "8/255");
        assert_eq!(short_number(2.5 * 0.3 / 7.0), "0.107143");
        assert_eq!(short_number(0.0), "0");
    }
}
