//! Gradient-masking sanity flags, in the spirit of AutoAttack's checks
//! (Croce & Hein 2020) and Athalye et al. (2018).

use crate::{GradientStats, RepeatedAccuracy, SaturationStats};

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
    /// Share of the binary dense unit's inputs where σ is exactly 0 or 1 in
    /// f32 (raised at [`SATURATED_SHARE`] or more).
    #[serde(default)]
    pub dense_unit_saturated: Option<f64>,
    /// Share of the gates' state units or mask probabilities that are
    /// saturated, the larger of the two (raised at [`SATURATED_SHARE`]).
    #[serde(default)]
    pub gate_saturated: Option<f64>,
    /// APGD-DLR left lower accuracy than APGD-CE at the same ε by more than
    /// two standard errors: the cross-entropy's gradient vanishes on a
    /// saturated softmax, where the DLR loss, invariant to the logits'
    /// scale, does not (AutoAttack's check; Croce & Hein 2020, §4).
    /// Absent where the two were not both run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dlr_beats_ce: Option<bool>,
}

/// The share of saturated units at which a flag is raised: at least half of
/// the unit's inputs give a gradient attack nothing (or almost nothing) to
/// follow.
pub const SATURATED_SHARE: f64 = 0.5;

/// Accuracy of an attack over `n` examples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackAccuracy {
    /// Share still classified correctly.
    pub accuracy: f64,
    /// Examples.
    pub n: usize,
}

/// What was measured, for [`SanityFlags::check`]: every field is optional,
/// and named so that no two can be swapped.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SanityEvidence {
    /// Share of examples whose prediction changed across repeated clean
    /// passes ([`RepeatedAccuracy::unstable_fraction`]).
    pub unstable_fraction: Option<f64>,
    /// Share of examples whose input gradient is exactly zero.
    pub zero_gradient_examples: Option<f64>,
    /// Non-finite input-gradient components.
    pub non_finite_gradients: Option<u64>,
    /// The lowest accuracy any gradient attack left, at one ε.
    pub best_gradient_attack: Option<AttackAccuracy>,
    /// The accuracy a gradient-free attack left, at the same ε.
    pub gradient_free_attack: Option<AttackAccuracy>,
    /// Saturation of the binary dense unit and the gates.
    pub saturation: Option<SaturationStats>,
    /// APGD-CE and APGD-DLR at the same ε, when both ran.
    pub apgd_ce_and_dlr: Option<(AttackAccuracy, AttackAccuracy)>,
}

impl SanityEvidence {
    /// The evidence of a clean check: repeated passes and input gradients.
    pub fn clean(repeats: &RepeatedAccuracy, gradients: &GradientStats) -> Self {
        Self {
            unstable_fraction: Some(repeats.unstable_fraction),
            zero_gradient_examples: Some(
                gradients.zero_examples as f64 / gradients.examples.max(1) as f64,
            ),
            non_finite_gradients: Some(gradients.non_finite),
            ..Self::default()
        }
    }

    /// The same evidence with the attacks at one ε.
    pub fn with_attacks(
        mut self,
        best_gradient_attack: Option<AttackAccuracy>,
        gradient_free_attack: Option<AttackAccuracy>,
    ) -> Self {
        self.best_gradient_attack = best_gradient_attack;
        self.gradient_free_attack = gradient_free_attack;
        self
    }

    /// The same evidence with APGD-CE's and APGD-DLR's accuracy at one ε.
    pub fn with_apgd(mut self, ce: AttackAccuracy, dlr: AttackAccuracy) -> Self {
        self.apgd_ce_and_dlr = Some((ce, dlr));
        self
    }
}

impl SanityFlags {
    /// The flags the evidence raises: the one place where flag rules live.
    pub fn check(evidence: &SanityEvidence) -> Self {
        let gradient_free_beats_gradient =
            match (evidence.best_gradient_attack, evidence.gradient_free_attack) {
                (Some(g), Some(f)) => Some(significantly_lower(f, g)),
                _ => None,
            };
        Self {
            randomness_detected: evidence.unstable_fraction.is_some_and(|u| u > 0.0),
            unstable_fraction: evidence.unstable_fraction,
            zero_gradient_examples: evidence.zero_gradient_examples,
            non_finite_gradients: evidence.non_finite_gradients,
            gradient_free_beats_gradient,
            dense_unit_saturated: evidence.saturation.and_then(|s| s.dense_unit_saturated),
            gate_saturated: evidence.saturation.and_then(|s| {
                match (s.gate_state_saturated, s.gate_probability_saturated) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                }
            }),
            dlr_beats_ce: evidence
                .apgd_ce_and_dlr
                .map(|(ce, dlr)| significantly_lower(dlr, ce)),
        }
    }

    /// Short labels of the raised flags about the model (randomness, zero
    /// or non-finite gradients), for a table cell.
    pub fn model_labels(&self) -> Vec<String> {
        let mut l = Vec::new();
        if self.randomness_detected {
            l.push(format!(
                "random ({:.1} % unstable)",
                100.0 * self.unstable_fraction.unwrap_or(0.0)
            ));
        }
        if let Some(z) = self.zero_gradient_examples.filter(|z| *z > 0.0) {
            l.push(format!("zero ∇ on {:.1} %", 100.0 * z));
        }
        if self.non_finite_gradients.is_some_and(|n| n > 0) {
            l.push("non-finite ∇".into());
        }
        if let Some(d) = self.dense_unit_saturated.filter(|d| *d >= SATURATED_SHARE) {
            l.push(format!("dense unit saturated ({:.0} %)", 100.0 * d));
        }
        if let Some(g) = self.gate_saturated.filter(|g| *g >= SATURATED_SHARE) {
            l.push(format!("gates saturated ({:.0} %)", 100.0 * g));
        }
        l
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
        if let Some(d) = self.dense_unit_saturated.filter(|d| *d >= SATURATED_SHARE) {
            w.push(format!(
                "the binary dense unit is saturated on {:.1} % of its inputs (σ exactly 0 or 1 \
                 in f32): its soft-STE gradient vanishes there; try BPDA",
                100.0 * d
            ));
        }
        if let Some(g) = self.gate_saturated.filter(|g| *g >= SATURATED_SHARE) {
            w.push(format!(
                "the gates are saturated on {:.1} % of their units: gradients through them \
                 vanish; try BPDA or fixed masks",
                100.0 * g
            ));
        }
        if self.gradient_free_beats_gradient == Some(true) {
            w.push(
                "a gradient-free attack beats the gradient attacks: likely gradient masking".into(),
            );
        }
        if self.dlr_beats_ce == Some(true) {
            w.push(
                "APGD-DLR beats APGD-CE: the cross-entropy's gradients vanish (saturated softmax); \
                 trust the DLR number, and suspect gradient masking"
                    .into(),
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
