//! The lines of an audit: which attacks run on a model, from what it can do
//! (random or not, parts BPDA can replace, masks that can be held fixed).

use serde::{Deserialize, Serialize};
use sgbn_attacks::{ApgdLoss, SQUARE_CONFIRM_DRAWS};
use sgbn_models::Bpda;

use super::AuditBudget;
use crate::{AttackSpec, GradientOptions, default_pgd_step};

/// What a line of the audit is for: the checks read lines by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditRole {
    /// FGSM: one step along the sign of the model's gradient.
    Fgsm,
    /// PGD with a random start, one draw per gradient.
    Pgd,
    /// PGD with EOT over the model's randomness (Athalye et al. 2018).
    PgdEot,
    /// APGD on the cross-entropy (Croce & Hein 2020), with EOT on a random model.
    ApgdCe,
    /// APGD on the DLR loss, invariant to the logits' scale.
    ApgdDlr,
    /// PGD with the model's binarized / gated parts differentiated as the
    /// identity (BPDA, Athalye et al. 2018 §4.1).
    Bpda,
    /// PGD against the randomness drawn on the clean input, held fixed; the
    /// evaluation draws afresh.
    FixedMasks,
    /// The Square attack: gradient-free, score-based (Andriushchenko et al. 2020).
    Square,
    /// PGD crafted on a plain surrogate CNN, judged on the model.
    Transfer,
}

impl AuditRole {
    /// Every role, in the report's order.
    pub const ALL: [Self; 9] = [
        Self::Fgsm,
        Self::Pgd,
        Self::PgdEot,
        Self::ApgdCe,
        Self::ApgdDlr,
        Self::Bpda,
        Self::FixedMasks,
        Self::Square,
        Self::Transfer,
    ];

    /// Its short name, as in `audit.json`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Fgsm => "fgsm",
            Self::Pgd => "pgd",
            Self::PgdEot => "pgd-eot",
            Self::ApgdCe => "apgd-ce",
            Self::ApgdDlr => "apgd-dlr",
            Self::Bpda => "bpda",
            Self::FixedMasks => "fixed-masks",
            Self::Square => "square",
            Self::Transfer => "transfer",
        }
    }

    /// An attack that follows the model's own gradient, with nothing
    /// replaced or held fixed: what a defence's own evaluation runs.
    pub fn is_plain_white_box(self) -> bool {
        matches!(
            self,
            Self::Fgsm | Self::Pgd | Self::PgdEot | Self::ApgdCe | Self::ApgdDlr
        )
    }
}

/// What the audit knows of the model, which decides the lines.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// Two passes on the same input can differ (declared by the model, or
    /// seen in the clean passes).
    pub stochastic: bool,
    /// The parts BPDA can replace (`None`: none, or not a model of
    /// `sgbn-models`).
    pub bpda: Option<Bpda>,
    /// The model's randomness can be held fixed at the clean input.
    pub fixed_masks: bool,
    /// A surrogate was trained for the transfer line.
    pub surrogate: bool,
    /// Classes of the model (the DLR loss needs at least 3).
    pub classes: usize,
}

/// One line to measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedLine {
    /// What it is for.
    pub role: AuditRole,
    /// The attack.
    pub spec: AttackSpec,
}

impl PlannedLine {
    /// Its budget ε.
    pub fn eps(&self) -> f64 {
        self.spec.eps()
    }
}

/// A role the audit does not run on this model, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotApplicable {
    /// The role.
    pub role: AuditRole,
    /// Why.
    pub reason: String,
}

/// The lines at the budget's ε, then the sweep's (FGSM and the strongest
/// PGD at every further ε), and the roles left out with their reasons.
pub fn plan_lines(
    caps: &Capabilities,
    budget: &AuditBudget,
) -> (Vec<PlannedLine>, Vec<NotApplicable>) {
    let eot = if caps.stochastic { budget.eot } else { 1 };
    let pgd = |eps: f64, eot: usize, options: GradientOptions| AttackSpec::Pgd {
        eps,
        step: default_pgd_step(eps, budget.pgd_steps),
        steps: budget.pgd_steps,
        eot,
        options,
    };
    let apgd = |loss| AttackSpec::Apgd {
        eps: budget.eps,
        loss,
        steps: budget.apgd_steps,
        restarts: 1,
        targets: 0,
        eot,
        autoattack_rule: false,
    };
    let e = budget.eps;
    let mut lines = Vec::new();
    let mut left_out = Vec::new();
    let mut add = |role, spec: Option<AttackSpec>, reason: &str| match spec {
        Some(spec) => lines.push(PlannedLine { role, spec }),
        None => left_out.push(NotApplicable {
            role,
            reason: reason.to_string(),
        }),
    };
    add(AuditRole::Fgsm, Some(AttackSpec::fgsm(e)), "");
    add(
        AuditRole::Pgd,
        Some(pgd(e, 1, GradientOptions::default())),
        "",
    );
    add(
        AuditRole::PgdEot,
        caps.stochastic
            .then(|| pgd(e, eot, GradientOptions::default())),
        "the model is deterministic: EOT is PGD",
    );
    add(AuditRole::ApgdCe, Some(apgd(ApgdLoss::Ce)), "");
    add(
        AuditRole::ApgdDlr,
        (caps.classes >= 3).then(|| apgd(ApgdLoss::Dlr)),
        "the DLR loss needs at least 3 classes",
    );
    add(
        AuditRole::Bpda,
        caps.bpda
            .filter(Bpda::any)
            .map(|b| pgd(e, eot, GradientOptions::bpda(b))),
        "the model declares no binarized or gated part to differentiate as the identity",
    );
    add(
        AuditRole::FixedMasks,
        caps.fixed_masks
            .then(|| pgd(e, eot, GradientOptions::fixed_masks())),
        "the model exposes no randomness to hold fixed",
    );
    add(
        AuditRole::Square,
        Some(AttackSpec::Square {
            eps: e,
            queries: budget.square_queries,
            eot: 1,
            confirm: SQUARE_CONFIRM_DRAWS,
        }),
        "",
    );
    add(
        AuditRole::Transfer,
        caps.surrogate
            .then(|| pgd(e, 1, GradientOptions::default())),
        "no surrogate: no training images given, or 0 surrogate epochs",
    );
    let strongest_pgd = if caps.stochastic {
        AuditRole::PgdEot
    } else {
        AuditRole::Pgd
    };
    for s in budget.all_eps() {
        if crate::eps_eq(s, e) {
            continue;
        }
        lines.push(PlannedLine {
            role: AuditRole::Fgsm,
            spec: AttackSpec::fgsm(s),
        });
        lines.push(PlannedLine {
            role: strongest_pgd,
            spec: pgd(s, eot, GradientOptions::default()),
        });
    }
    (lines, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles_at_eps(caps: &Capabilities) -> Vec<AuditRole> {
        let b = AuditBudget::default();
        plan_lines(caps, &b)
            .0
            .iter()
            .filter(|l| crate::eps_eq(l.eps(), b.eps))
            .map(|l| l.role)
            .collect()
    }

    #[test]
    fn a_deterministic_plain_model_gets_no_eot_bpda_or_fixed_masks() {
        let caps = Capabilities {
            classes: 10,
            ..Capabilities::default()
        };
        let roles = roles_at_eps(&caps);
        assert_eq!(
            roles,
            [
                AuditRole::Fgsm,
                AuditRole::Pgd,
                AuditRole::ApgdCe,
                AuditRole::ApgdDlr,
                AuditRole::Square
            ]
        );
        let (lines, left_out) = plan_lines(&caps, &AuditBudget::default());
        assert_eq!(left_out.len(), 4);
        assert!(lines.iter().all(|l| !matches!(
            l.spec,
            AttackSpec::Pgd { eot, .. } | AttackSpec::Apgd { eot, .. } if eot != 1
        )));
    }

    #[test]
    fn a_gated_random_model_gets_every_line_and_the_sweep_reaches_one() {
        let caps = Capabilities {
            stochastic: true,
            bpda: Some(Bpda::all()),
            fixed_masks: true,
            surrogate: true,
            classes: 10,
        };
        assert_eq!(roles_at_eps(&caps), AuditRole::ALL);
        let b = AuditBudget::default();
        let (lines, left_out) = plan_lines(&caps, &b);
        assert!(left_out.is_empty());
        let at_one: Vec<_> = lines
            .iter()
            .filter(|l| l.eps() == 1.0)
            .map(|l| l.role)
            .collect();
        assert_eq!(at_one, [AuditRole::Fgsm, AuditRole::PgdEot]);
        // Every EOT line draws the budget's EOT; the transfer's surrogate is plain.
        for l in &lines {
            if let AttackSpec::Pgd { eot, .. } = l.spec {
                let want = if l.role == AuditRole::Pgd || l.role == AuditRole::Transfer {
                    1
                } else {
                    b.eot
                };
                assert_eq!(eot, want, "{:?}", l.role);
            }
        }
    }
}
