//! The checklist of Athalye et al. (2018, §3) and Carlini et al. (2019,
//! §5) as verdicts: each a condition a model without gradient masking
//! meets, judged on the audit's lines with the two-standard-error rule of
//! `sgbn_metrics::significantly_lower` (the sanity flags' one rule).

use serde::{Deserialize, Serialize};
use sgbn_metrics::{AttackAccuracy, significantly_lower};

use super::{AuditLine, AuditRole};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// The condition holds within sampling error.
    Pass,
    /// It does not: evidence of gradient masking (or of a broken attack).
    Fail,
    /// A line it needs was not run on this model (the reason is given).
    NotRun,
}

/// One verdict of the checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Short name, as in `audit.json`.
    pub id: String,
    /// The condition a model without gradient masking meets.
    pub condition: String,
    /// How it came out.
    pub status: CheckStatus,
    /// The numbers behind it.
    pub evidence: String,
}

fn acc(line: &AuditLine) -> AttackAccuracy {
    AttackAccuracy {
        accuracy: line.result.headline(),
        n: line.result.total,
    }
}

fn pct(a: AttackAccuracy) -> String {
    format!("{:.1} %", 100.0 * a.accuracy)
}

/// The lowest-accuracy line among `lines` (at one ε) whose role passes `keep`.
fn strongest<'a>(
    lines: &[&'a AuditLine],
    keep: impl Fn(AuditRole) -> bool,
) -> Option<&'a AuditLine> {
    lines
        .iter()
        .filter(|l| keep(l.role))
        .min_by(|a, b| a.result.headline().total_cmp(&b.result.headline()))
        .copied()
}

/// The check that `challenger` is not significantly below `reference`
/// (`Fail` when it is), or `NotRun` naming what is missing.
fn not_below(
    id: &str,
    condition: &str,
    challenger: Option<&AuditLine>,
    reference: Option<&AuditLine>,
    missing: &str,
) -> Check {
    let (status, evidence) = match (challenger, reference) {
        (Some(c), Some(r)) => {
            let (a, b) = (acc(c), acc(r));
            let status = if significantly_lower(a, b) {
                CheckStatus::Fail
            } else {
                CheckStatus::Pass
            };
            (
                status,
                format!(
                    "{} {} vs {} {} ({} images)",
                    c.role.id(),
                    pct(a),
                    r.role.id(),
                    pct(b),
                    a.n.min(b.n)
                ),
            )
        }
        _ => (CheckStatus::NotRun, missing.to_string()),
    };
    Check {
        id: id.into(),
        condition: condition.into(),
        status,
        evidence,
    }
}

/// The checks on `at_eps` (the lines at the budget's ε) and `sweep` (the
/// strongest PGD's lines at every ε, ascending), for a model that is
/// `stochastic` or not.
pub fn run_checks(at_eps: &[&AuditLine], sweep: &[&AuditLine], stochastic: bool) -> Vec<Check> {
    let role = |r: AuditRole| at_eps.iter().find(|l| l.role == r).copied();
    let plain = strongest(at_eps, AuditRole::is_plain_white_box);
    let iterative = strongest(at_eps, |r| r.is_plain_white_box() && r != AuditRole::Fgsm);
    let mut checks = vec![
        not_below(
            "iterative-beats-single-step",
            "iterative attacks are at least as strong as FGSM",
            role(AuditRole::Fgsm),
            iterative,
            "FGSM or the iterative attacks were not run",
        ),
        not_below(
            "white-box-beats-transfer",
            "the model's own gradients are at least as strong as transfer from a surrogate",
            role(AuditRole::Transfer),
            plain,
            "no transfer line (no surrogate)",
        ),
        not_below(
            "gradient-free-not-stronger",
            "the gradient-free Square attack is not stronger than the gradient attacks",
            role(AuditRole::Square),
            plain,
            "Square was not run",
        ),
        not_below(
            "bpda-not-stronger",
            "differentiating binarized / gated parts as the identity (BPDA) is not stronger",
            role(AuditRole::Bpda),
            plain,
            "the model declares no part for BPDA",
        ),
        not_below(
            "fixed-randomness-not-stronger",
            "crafting against randomness held fixed is not stronger",
            role(AuditRole::FixedMasks),
            plain,
            "the model exposes no randomness to hold fixed",
        ),
    ];
    checks.push(if stochastic {
        not_below(
            "eot-does-not-hurt",
            "EOT changes nothing or helps the attack",
            role(AuditRole::Pgd),
            role(AuditRole::PgdEot),
            "PGD or PGD-EOT was not run",
        )
    } else {
        Check {
            id: "eot-does-not-hurt".into(),
            condition: "EOT changes nothing or helps the attack".into(),
            status: CheckStatus::NotRun,
            evidence: "the model is deterministic (clean passes agree)".into(),
        }
    });
    checks.push(unbounded(sweep));
    checks.push(monotone(sweep));
    checks
}

/// ε = 1 lets an attack reach any image: the strongest PGD must leave an
/// accuracy not significantly above 0.
fn unbounded(sweep: &[&AuditLine]) -> Check {
    let condition = "an unbounded attack (ε = 1) reaches 0 % accuracy".to_string();
    let Some(top) = sweep.iter().find(|l| l.spec.eps() == 1.0) else {
        return Check {
            id: "unbounded-reaches-zero".into(),
            condition,
            status: CheckStatus::NotRun,
            evidence: "the sweep stops below ε = 1".into(),
        };
    };
    let a = acc(top);
    let zero = AttackAccuracy {
        accuracy: 0.0,
        n: a.n,
    };
    Check {
        id: "unbounded-reaches-zero".into(),
        condition,
        status: if significantly_lower(zero, a) {
            CheckStatus::Fail
        } else {
            CheckStatus::Pass
        },
        evidence: format!("{} at ε 1: {} ({} images)", top.role.id(), pct(a), a.n),
    }
}

/// A larger ε never leaves significantly more accuracy.
fn monotone(sweep: &[&AuditLine]) -> Check {
    let condition = "a larger ε never leaves more accuracy".to_string();
    let mut worst: Option<(f64, f64, AttackAccuracy, AttackAccuracy)> = None;
    for (i, lo) in sweep.iter().enumerate() {
        for hi in &sweep[i + 1..] {
            let (a, b) = (acc(lo), acc(hi));
            if significantly_lower(a, b)
                && worst.is_none_or(|w| b.accuracy - a.accuracy > w.3.accuracy - w.2.accuracy)
            {
                worst = Some((lo.spec.eps(), hi.spec.eps(), a, b));
            }
        }
    }
    let (status, evidence) = match (sweep.len(), worst) {
        (0 | 1, _) => (
            CheckStatus::NotRun,
            "fewer than two ε in the sweep".to_string(),
        ),
        (_, Some((lo, hi, a, b))) => (
            CheckStatus::Fail,
            format!("ε {lo}: {} but ε {hi}: {}", pct(a), pct(b)),
        ),
        (_, None) => (
            CheckStatus::Pass,
            sweep
                .iter()
                .map(|l| format!("ε {}: {}", l.spec.eps(), pct(acc(l))))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    Check {
        id: "larger-eps-never-helps".into(),
        condition,
        status,
        evidence,
    }
}
