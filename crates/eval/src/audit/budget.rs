//! [`AuditBudget`]: what an audit spends: ε, images, passes, steps,
//! queries, the sweep and the surrogate.

use serde::{Deserialize, Serialize};

use crate::{DEFAULT_APGD_STEPS, DEFAULT_PGD_STEPS, EvalError, Result};

/// The budget of an [`audit`](crate::audit()).
///
/// `Default` is the MNIST setting of the field (ε 0.3, PGD 40 steps,
/// APGD 100, Square 1,000 queries, EOT 10 and 10 passes on a stochastic
/// model) on 500 test images, with a 2-epoch surrogate CNN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditBudget {
    /// The ℓ∞ budget ε of the checklist's attacks.
    pub eps: f64,
    /// The first this many test images.
    pub images: usize,
    /// Passes over the adversarial images of a stochastic model whose
    /// accuracy is averaged (a deterministic model gets one).
    pub passes: usize,
    /// Draws of a stochastic model's randomness per gradient (EOT).
    pub eot: usize,
    /// PGD iterations (step 2.5 · ε / steps).
    pub pgd_steps: usize,
    /// APGD iterations.
    pub apgd_steps: usize,
    /// Square attack queries per image.
    pub square_queries: usize,
    /// Further ε of the sweep (FGSM and the strongest PGD), each in (0, 1];
    /// 1 is the unbounded check.
    pub sweep: Vec<f64>,
    /// Epochs of the surrogate CNN of the transfer line (0: no transfer).
    pub surrogate_epochs: usize,
    /// Training images of the surrogate (`None`: all given).
    pub surrogate_train_size: Option<usize>,
    /// Images per attack batch.
    pub batch_size: usize,
    /// Seed of every generator of the audit.
    pub seed: u64,
}

impl Default for AuditBudget {
    fn default() -> Self {
        Self {
            eps: 0.3,
            images: 500,
            passes: 10,
            eot: 10,
            pgd_steps: DEFAULT_PGD_STEPS,
            apgd_steps: DEFAULT_APGD_STEPS,
            square_queries: 1000,
            sweep: vec![0.1, 0.2, 0.5, 1.0],
            surrogate_epochs: 2,
            surrogate_train_size: None,
            batch_size: 100,
            seed: 0,
        }
    }
}

impl AuditBudget {
    /// Checks every value, naming the one that cannot work.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(EvalError::InvalidConfig(format!("audit budget: {what}")));
        if !(self.eps > 0.0 && self.eps <= 1.0) {
            return bad(&format!("ε {} must lie in (0, 1]", self.eps));
        }
        if let Some(e) = self.sweep.iter().find(|e| !(**e > 0.0 && **e <= 1.0)) {
            return bad(&format!("sweep ε {e} must lie in (0, 1]"));
        }
        for (name, v) in [
            ("images", self.images),
            ("passes", self.passes),
            ("eot", self.eot),
            ("pgd_steps", self.pgd_steps),
            ("apgd_steps", self.apgd_steps),
            ("square_queries", self.square_queries),
            ("batch_size", self.batch_size),
        ] {
            if v == 0 {
                return bad(&format!("{name} must be ≥ 1"));
            }
        }
        if self.passes > u16::MAX as usize {
            return bad(&format!("passes {} above {}", self.passes, u16::MAX));
        }
        if self.surrogate_train_size == Some(0) {
            return bad("surrogate_train_size 0 (give None for all images)");
        }
        Ok(())
    }

    /// Every ε measured: the budget's and the sweep's, ascending, once each.
    pub fn all_eps(&self) -> Vec<f64> {
        let mut all: Vec<f64> = self.sweep.iter().copied().chain([self.eps]).collect();
        all.sort_by(f64::total_cmp);
        all.dedup_by(|a, b| crate::eps_eq(*a, *b));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::AuditBudget;

    #[test]
    fn the_default_is_valid_and_each_bad_value_is_named() {
        AuditBudget::default().validate().expect("default");
        type Change = fn(&mut AuditBudget);
        let cases: [(Change, &str); 5] = [
            (|b| b.eps = 0.0, "ε 0"),
            (|b| b.eps = 1.5, "ε 1.5"),
            (|b| b.sweep = vec![0.2, f64::NAN], "sweep ε NaN"),
            (|b| b.pgd_steps = 0, "pgd_steps"),
            (|b| b.surrogate_train_size = Some(0), "surrogate_train_size"),
        ];
        for (change, named) in cases {
            let mut b = AuditBudget::default();
            change(&mut b);
            let e = b.validate().expect_err(named).to_string();
            assert!(e.contains(named), "{e} should name {named}");
        }
    }

    #[test]
    fn every_eps_once_in_order() {
        let b = AuditBudget {
            eps: 0.3,
            sweep: vec![1.0, 0.1, 0.3, 0.5],
            ..AuditBudget::default()
        };
        assert_eq!(b.all_eps(), vec![0.1, 0.3, 0.5, 1.0]);
    }
}
