//! An audit's conclusion (checks, the per-image worst case, the verdict)
//! and its presentation: `AUDIT.md`'s Markdown and the accuracy-against-ε
//! figure.

use std::fmt::Write;

use sgbn_metrics::{AttackAccuracy, SanityEvidence, SanityFlags, SaturationStats};

use super::checks::run_checks;
use super::{
    AuditBudget, AuditLine, AuditReport, AuditRole, Capabilities, CheckStatus, NotApplicable,
    SurrogateInfo,
};
use crate::{CleanCheck, Figure, RESULTS_VERSION, Series, worst_case};

/// What [`audit_with`](super::audit_with) measured, before the conclusion.
pub(super) struct Measured {
    pub budget: AuditBudget,
    pub capabilities: Capabilities,
    pub images: usize,
    pub classes: usize,
    pub passes: usize,
    pub clean: CleanCheck,
    pub saturation: Option<SaturationStats>,
    pub surrogate: Option<SurrogateInfo>,
    pub lines: Vec<AuditLine>,
    pub not_applicable: Vec<NotApplicable>,
    pub seconds: f64,
}

fn acc(line: &AuditLine) -> AttackAccuracy {
    AttackAccuracy {
        accuracy: line.result.headline(),
        n: line.result.total,
    }
}

/// The lines of the strongest PGD (EOT on a random model) at every ε, ascending.
fn sweep_lines(lines: &[AuditLine], stochastic: bool) -> Vec<&AuditLine> {
    let role = if stochastic {
        AuditRole::PgdEot
    } else {
        AuditRole::Pgd
    };
    let mut s: Vec<&AuditLine> = lines.iter().filter(|l| l.role == role).collect();
    s.sort_by(|a, b| a.spec.eps().total_cmp(&b.spec.eps()));
    s
}

/// The checks, flags, worst case and verdict of `m`.
pub(super) fn conclude(m: Measured) -> AuditReport {
    let eps = m.budget.eps;
    let at_eps: Vec<&AuditLine> = m
        .lines
        .iter()
        .filter(|l| crate::eps_eq(l.spec.eps(), eps))
        .collect();
    let checks = run_checks(
        &at_eps,
        &sweep_lines(&m.lines, m.capabilities.stochastic),
        m.capabilities.stochastic,
    );
    let role = |r: AuditRole| at_eps.iter().find(|l| l.role == r).copied();
    let best_gradient = at_eps
        .iter()
        .filter(|l| l.role.is_plain_white_box())
        .map(|l| acc(l))
        .min_by(|a, b| a.accuracy.total_cmp(&b.accuracy));
    let mut evidence = SanityEvidence {
        saturation: m.saturation,
        ..m.clean.evidence()
    }
    .with_attacks(best_gradient, role(AuditRole::Square).map(acc));
    if let (Some(ce), Some(dlr)) = (role(AuditRole::ApgdCe), role(AuditRole::ApgdDlr)) {
        evidence = evidence.with_apgd(acc(ce), acc(dlr));
    }
    let flags = SanityFlags::check(&evidence);
    let results: Vec<&crate::EvalResult> = at_eps.iter().map(|l| &l.result).collect();
    let robust = worst_case(&results);
    let fgsm_accuracy = role(AuditRole::Fgsm).map_or(f64::NAN, |l| l.result.headline());
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| format!("{}: {}", c.id, c.evidence))
        .collect();
    let masking = !failed.is_empty();
    let robust_pct = robust.map_or(f64::NAN, |w| 100.0 * w.robust);
    let verdict = if masking {
        format!(
            "gradient masking: the defence's FGSM number overstates robustness by {:.1} points \
             (FGSM {:.1} %, per-image worst case {:.1} %; evidence: {})",
            100.0 * fgsm_accuracy - robust_pct,
            100.0 * fgsm_accuracy,
            robust_pct,
            failed.join("; ")
        )
    } else {
        format!(
            "no sign of gradient masking: every check passed; robust accuracy {robust_pct:.1} % \
             (per-image worst case over {} attacks at ε {eps})",
            at_eps.len()
        )
    };
    AuditReport {
        version: RESULTS_VERSION.to_string(),
        budget: m.budget,
        capabilities: m.capabilities,
        images: m.images,
        classes: m.classes,
        passes: m.passes,
        clean: m.clean,
        saturation: m.saturation,
        flags,
        surrogate: m.surrogate,
        lines: m.lines,
        not_applicable: m.not_applicable,
        checks,
        robust,
        fgsm_accuracy,
        masking,
        verdict,
        seconds: m.seconds,
    }
}

/// The command that reproduces one line, where there is one.
pub type LineCommand<'a> = dyn Fn(&AuditLine) -> Option<String> + 'a;

/// What `AUDIT.md` is given besides the report.
#[derive(Default)]
pub struct MarkdownOptions<'a> {
    /// What was audited (a file, a model name).
    pub title: String,
    /// The command that reruns the whole audit.
    pub audit_command: Option<String>,
    /// The command that reproduces one line, where there is one.
    pub line_command: Option<&'a LineCommand<'a>>,
    /// The figure's file names, to link (`audit.svg`, `audit.png`).
    pub figures: Vec<String>,
}

impl std::fmt::Debug for MarkdownOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarkdownOptions")
            .field("title", &self.title)
            .field("audit_command", &self.audit_command)
            .field("figures", &self.figures)
            .finish_non_exhaustive()
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

impl AuditReport {
    /// `AUDIT.md`: the verdict, the model, every line, the checklist, the
    /// sweep and the commands.
    pub fn markdown(&self, options: &MarkdownOptions<'_>) -> String {
        let mut md = String::new();
        let b = &self.budget;
        let _ = writeln!(md, "# Gradient-masking audit: {}\n", options.title);
        let _ = writeln!(md, "**Verdict: {}.**\n", self.verdict);
        if let Some(w) = self.robust {
            let _ = writeln!(
                md,
                "Robust accuracy we stand behind: **{} %**: the images that survive every attack \
                 below at ε {} ({} images{}); FGSM alone reports {} %.\n",
                pct(w.robust),
                b.eps,
                w.images,
                if self.passes > 1 {
                    format!(
                        ", each by a majority of its {} passes; per image the smallest share of \
                         right passes over the lines, averaged: {} %",
                        self.passes,
                        pct(w.mean_over_passes)
                    )
                } else {
                    String::new()
                },
                pct(self.fgsm_accuracy)
            );
        }
        md.push_str("## The model\n\n");
        let c = &self.clean;
        let caps = &self.capabilities;
        let _ = writeln!(
            md,
            "- {} classes; {} test images; clean accuracy {} % ± {} over {} passes (majority vote {} %); \
             {} % of the images change prediction between passes: {}.",
            self.classes,
            self.images,
            pct(c.repeated.summary.mean),
            pct(c.repeated.summary.std),
            c.repeated.per_pass.len(),
            pct(c.repeated.majority_vote),
            pct(c.repeated.unstable_fraction),
            if caps.stochastic {
                format!(
                    "random, so every attack line is judged over {} passes",
                    self.passes
                )
            } else {
                "deterministic".into()
            }
        );
        let g = &c.gradients;
        let _ = writeln!(
            md,
            "- Input gradients at the clean images: {} % of images all zero, {} % of components \
             zero, {} non-finite, mean |∂L/∂x| {:.3e}, max {:.3e}.",
            pct(g.zero_examples as f64 / g.examples.max(1) as f64),
            pct(g.zero_fraction),
            g.non_finite,
            g.mean_abs,
            g.max_abs
        );
        if let Some(s) = &self.saturation {
            let opt = |v: Option<f64>| {
                v.map_or("– (not in the model)".to_string(), |v| {
                    format!("{} %", pct(v))
                })
            };
            let _ = writeln!(
                md,
                "- Saturation at the clean images: binary dense unit {}, gate states {}, gate \
                 probabilities {}.",
                opt(s.dense_unit_saturated),
                opt(s.gate_state_saturated),
                opt(s.gate_probability_saturated)
            );
        }
        if let Some(s) = &self.surrogate {
            let _ = writeln!(
                md,
                "- Transfer surrogate: the thesis's CNN, {} epochs on {} training images (seed {}), \
                 training accuracy {} %.",
                s.config.epochs,
                s.train_images,
                s.config.seed,
                pct(s.train_accuracy)
            );
        }
        for w in self.flags.warnings() {
            let _ = writeln!(md, "- Flag: {w}.");
        }
        let _ = writeln!(md, "\n## Attacks at ε = {}\n", b.eps);
        let with_commands = options.line_command.is_some();
        md.push_str("| line | attack | accuracy % | ± std over passes | majority % | mean ℓ∞ | forward passes / image | seconds |");
        md.push_str(if with_commands {
            " reproduce |\n"
        } else {
            "\n"
        });
        md.push_str("|---|---|---|---|---|---|---|---|");
        md.push_str(if with_commands { "---|\n" } else { "\n" });
        for l in self.at_eps() {
            self.line_row(&mut md, l, options);
        }
        if !self.not_applicable.is_empty() {
            md.push('\n');
        }
        for na in &self.not_applicable {
            let _ = writeln!(md, "- Not run: `{}`: {}.", na.role.id(), na.reason);
        }
        md.push_str("\n## The checklist (Athalye et al. 2018 §3; Carlini et al. 2019 §5)\n\n");
        md.push_str(
            "Each condition holds for a model without gradient masking; a difference counts when \
             it exceeds two standard errors of two binomial proportions (at least one image).\n\n",
        );
        md.push_str("| check | condition | verdict | evidence |\n|---|---|---|---|\n");
        for ch in &self.checks {
            let verdict = match ch.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Fail => "**FAIL**",
                CheckStatus::NotRun => "not run",
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | {verdict} | {} |",
                ch.id, ch.condition, ch.evidence
            );
        }
        md.push_str("\n## ε sweep\n\n");
        let sweep: Vec<&AuditLine> = self
            .lines
            .iter()
            .filter(|l| !crate::eps_eq(l.spec.eps(), b.eps))
            .collect();
        if !sweep.is_empty() {
            md.push_str("| line | attack | accuracy % | ± std over passes |");
            md.push_str(if with_commands {
                " reproduce |\n|---|---|---|---|---|\n"
            } else {
                "\n|---|---|---|---|\n"
            });
            for l in sweep {
                let std = l
                    .result
                    .repeated
                    .as_ref()
                    .map_or("–".to_string(), |r| pct(r.summary.std));
                let _ = write!(
                    md,
                    "| `{}` | {} | {} | {std} |",
                    l.role.id(),
                    l.name,
                    pct(l.result.headline())
                );
                if let Some(f) = options.line_command {
                    let _ = write!(md, " {} |", f(l).map_or("–".into(), |c| format!("`{c}`")));
                }
                md.push('\n');
            }
        }
        for f in &options.figures {
            let _ = writeln!(md, "\n![accuracy against ε]({f})");
        }
        md.push_str("\n## Reproduce\n\n");
        if let Some(cmd) = &options.audit_command {
            let _ = writeln!(
                md,
                "The whole audit (resumes from its cache):\n\n```\n{cmd}\n```\n"
            );
        }
        if with_commands {
            md.push_str(
                "Each line's command runs the same attack on the same images with the same \
                 generator (`stage_rng` of the seed and the attack's name), so it prints the same \
                 number.\n",
            );
        }
        let lines_s: f64 =
            self.lines.iter().map(|l| l.result.seconds).sum::<f64>() + self.clean.seconds;
        let _ = writeln!(
            md,
            "\nWall time of this run: {:.0} s (the surrogate and the lines taken from the cache \
             cost it nothing); the clean check's and the lines' own measured times sum to \
             {lines_s:.0} s. Results version `{}`.",
            self.seconds, self.version
        );
        md
    }

    fn line_row(&self, md: &mut String, l: &AuditLine, options: &MarkdownOptions<'_>) {
        let r = &l.result;
        let std = r
            .repeated
            .as_ref()
            .map_or("–".to_string(), |x| pct(x.summary.std));
        let majority = r
            .repeated
            .as_ref()
            .map_or("–".to_string(), |x| pct(x.majority_vote));
        let (linf, passes) = r.cost.map_or(("–".into(), "–".into()), |c| {
            (
                format!("{:.3}", c.mean_linf),
                format!("{:.0}", c.mean_forward_passes),
            )
        });
        let _ = write!(
            md,
            "| `{}` | {} | {} | {std} | {majority} | {linf} | {passes} | {:.0} |",
            l.role.id(),
            l.name,
            pct(r.headline()),
            r.seconds
        );
        if let Some(f) = options.line_command {
            let _ = write!(md, " {} |", f(l).map_or("–".into(), |c| format!("`{c}`")));
        }
        md.push('\n');
    }

    /// Accuracy against ε: FGSM and the strongest PGD over the sweep, every
    /// other attack at the budget's ε.
    pub fn figure(&self) -> Figure {
        let mut series = Vec::new();
        for (color, role) in AuditRole::ALL.iter().enumerate() {
            let mut points: Vec<(f64, f64, f64)> = self
                .lines
                .iter()
                .filter(|l| l.role == *role)
                .map(|l| {
                    let std = l.result.repeated.as_ref().map_or(0.0, |r| r.summary.std);
                    (l.spec.eps(), 100.0 * l.result.headline(), 100.0 * std)
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(Series {
                label: role.id().to_string(),
                points,
                dashed: false,
                color,
            });
        }
        if let Some(w) = self.robust {
            series.push(Series {
                label: "per-image worst case".into(),
                points: vec![(self.budget.eps, 100.0 * w.robust, 0.0)],
                dashed: true,
                color: AuditRole::ALL.len(),
            });
        }
        Figure::Line {
            title: "accuracy against ε, by attack".into(),
            x_label: "ε".into(),
            y_label: "accuracy (%)".into(),
            y_max: 100.0,
            series,
        }
    }
}
