//! Gradient-masking sanity flags, in the spirit of AutoAttack's checks
//! (Croce & Hein 2020) and Athalye et al. (2018).

use crate::{GradientStats, RepeatedAccuracy};

/// What the evaluation found that should make a reader doubt gradient-based
/// robustness numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SanityFlags {
    /// Repeated clean passes disagree on some example: the model is
    /// randomized, so single-pass gradient attacks need EOT and accuracy
    /// should be read over repeated passes.
    pub randomness_detected: bool,
    /// Share of examples whose predictions changed across passes.
    pub unstable_fraction: Option<f64>,
    /// Share of examples whose input gradient is exactly zero.
    pub zero_gradient_examples: Option<f64>,
    /// Non-finite gradient components seen.
    pub non_finite_gradients: Option<u64>,
    /// A gradient-free attack left lower accuracy than the best gradient
    /// attack at the same ε, by more than two standard errors: the gradients
    /// do not point where the loss rises (gradient masking).
    pub gradient_free_beats_gradient: Option<bool>,
}

/// Accuracy of an attack over `n` examples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackAccuracy {
    /// Share still classified correctly.
    pub accuracy: f64,
    /// Examples.
    pub n: usize,
}

impl SanityFlags {
    /// Flags from whatever was measured; each input is optional.
    pub fn check(
        clean_repeats: Option<&RepeatedAccuracy>,
        gradients: Option<&GradientStats>,
        best_gradient_attack: Option<AttackAccuracy>,
        gradient_free_attack: Option<AttackAccuracy>,
    ) -> Self {
        let unstable_fraction = clean_repeats.map(|r| r.unstable_fraction);
        let gradient_free_beats_gradient = match (best_gradient_attack, gradient_free_attack) {
            (Some(g), Some(f)) => Some(significantly_lower(f, g)),
            _ => None,
        };
        Self {
            randomness_detected: unstable_fraction.is_some_and(|u| u > 0.0),
            unstable_fraction,
            zero_gradient_examples: gradients
                .map(|g| g.zero_examples as f64 / g.examples.max(1) as f64),
            non_finite_gradients: gradients.map(|g| g.non_finite),
            gradient_free_beats_gradient,
        }
    }

    /// One line per raised flag, for reports.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.randomness_detected {
            w.push(format!(
                "randomness detected: {:.1} % of examples change prediction across clean passes; \
                 use EOT and repeated-pass accuracy",
                100.0 * self.unstable_fraction.unwrap_or(0.0)
            ));
        }
        if let Some(z) = self.zero_gradient_examples.filter(|z| *z > 0.0) {
            w.push(format!(
                "{:.1} % of examples have an all-zero input gradient",
                100.0 * z
            ));
        }
        if let Some(n) = self.non_finite_gradients.filter(|n| *n > 0) {
            w.push(format!("{n} non-finite input-gradient components"));
        }
        if self.gradient_free_beats_gradient == Some(true) {
            w.push(
                "a gradient-free attack beats the gradient attacks: likely gradient masking".into(),
            );
        }
        w
    }

    /// Whether any flag is raised.
    pub fn any(&self) -> bool {
        !self.warnings().is_empty()
    }
}

/// Whether accuracy `a` is below `b` by more than two standard errors of the
/// difference of two binomial proportions.
pub fn significantly_lower(a: AttackAccuracy, b: AttackAccuracy) -> bool {
    if a.n == 0 || b.n == 0 {
        return false;
    }
    let var = |x: AttackAccuracy| x.accuracy * (1.0 - x.accuracy) / x.n as f64;
    // A floor of one example's worth keeps 0 % vs 0.5 % from counting as
    // infinitely significant.
    let se = (var(a) + var(b)).sqrt().max(1.0 / a.n.min(b.n) as f64);
    b.accuracy - a.accuracy > 2.0 * se
}
