//! `fig4.4`: white-box BIM and ILL accuracy against ε on MNIST (Fig. 4.4,
//! §4.4; T = 10, α = 0.01). The thesis gives a figure, and its text four BIM
//! numbers (`data/thesis/bim_stated.json`), compared by the 2σ rule where the
//! profile's ε grid has their ε. "BNN DT and ST"
//! are read as the BNN with PGD with deterministic and with stochastic ±1
//! weights (docs/reproduction.md).

use std::fmt::Write;

use super::fgsm_curve::StatedFgsm;
use crate::{
    AttackSpec, Cell, EvalJob, Experiment, ExperimentInfo, Figure, GradientOptions, Jobs,
    PlanContext, ReportContext, Result, Section, Series, available, fmt_summary, summary, verdict,
};

/// The BIM accuracies §4.4's text states, under `data/thesis/`.
pub const STATED_BIM: &str = "bim_stated.json";

/// The experiment.
pub static FIG4_4: Fig4_4 = Fig4_4;

/// White-box BIM and ILL against ε.
#[derive(Debug)]
pub struct Fig4_4;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.4",
    title: "White-box BIM and ILL on MNIST",
    reference: "Fig. 4.4, §4.4 (a figure; the text states four BIM numbers)",
    models: MODELS,
    default_set: true,
};

const MODELS: &[&str] = &["sgbn", "cnn-bin", "bnn-pgd", "bnn-st", "sap", "cnn"];

/// The BIM (`least_likely = false`) or ILL evaluation of one model, run and ε.
fn eval(
    ctx: &PlanContext<'_>,
    model: &str,
    run: usize,
    eps: f64,
    least_likely: bool,
) -> Result<EvalJob> {
    let (step, steps) = (ctx.profile.iterative_step, ctx.profile.iterative_steps);
    // α = min(0.01, ε), as the report says; every profile's ε is ≥ 0.01.
    let step = step.min(eps);
    let attack = AttackSpec::iterative(least_likely, eps, step, steps, GradientOptions::default());
    Ok(EvalJob::new(
        &ctx.train_job(model, run)?,
        attack,
        ctx.profile.iterative_test,
        1,
    ))
}

impl Experiment for Fig4_4 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in MODELS.iter().copied().filter(|m| available(m)) {
                jobs.trains.push(ctx.train_job(m, run)?);
                for &eps in &ctx.profile.iterative_eps {
                    jobs.add(eval(ctx, m, run, eps, false)?);
                    jobs.add(eval(ctx, m, run, eps, true)?);
                }
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let profile = ctx.profile;
        let stated: StatedFgsm = ctx.thesis(STATED_BIM)?;
        let mut cells = Vec::new();
        let mut cmp = String::new();
        let mut s = Section::default();
        for (label, least_likely) in [("BIM", false), ("ILL", true)] {
            let md = &mut s.markdown;
            let _ = write!(
                md,
                "{label} (T = {}, α = min(0.01, ε)):\n\n| model |",
                profile.iterative_steps
            );
            for e in &profile.iterative_eps {
                let _ = write!(md, " ε = {e} |");
            }
            let _ = writeln!(md, "\n|---|{}", "---|".repeat(profile.iterative_eps.len()));
            let mut series = Vec::new();
            for (k, m) in MODELS.iter().copied().filter(|m| available(m)).enumerate() {
                let _ = write!(md, "| {m} |");
                let mut pts = Vec::new();
                for &e in &profile.iterative_eps {
                    let mut vals = Vec::new();
                    for run in 0..profile.runs {
                        if let Some(r) = ctx.results.get(&eval(&plan, m, run, e, least_likely)?) {
                            vals.push(100.0 * r.headline());
                        }
                    }
                    match summary(&vals) {
                        Some(sm) => {
                            let _ = write!(md, " {} |", fmt_summary(&sm));
                            pts.push((e, sm.mean, sm.std));
                            if let Some(thesis) = stated.at(m, e).filter(|_| !least_likely) {
                                let c = Cell { ours: sm, thesis };
                                let _ = writeln!(
                                    cmp,
                                    "| {m} | {e} | {} | {:.1} ± {:.1} | {:+.1} | {} |",
                                    fmt_summary(&sm),
                                    thesis.0,
                                    thesis.1,
                                    sm.mean - thesis.0,
                                    if c.within() { "yes" } else { "no" }
                                );
                                cells.push(c);
                            }
                        }
                        None => {
                            let _ = write!(md, " – |");
                        }
                    }
                }
                let _ = writeln!(md);
                s.json
                    .insert(format!("{label}/{m}"), serde_json::json!(pts));
                series.push(Series {
                    label: m.to_string(),
                    points: pts,
                    dashed: false,
                    color: k,
                });
            }
            let name = format!("fig4.4-{}.svg", label.to_lowercase());
            let _ = writeln!(md, "\n![{label}](figures/{name})\n");
            s.figures.push((
                name,
                Figure::Line {
                    title: format!("fig4.4: {label}, white box"),
                    x_label: "ε".into(),
                    y_label: "accuracy (%)".into(),
                    y_max: 100.0,
                    series,
                },
            ));
        }
        if !cmp.is_empty() {
            let _ = writeln!(
                s.markdown,
                "BIM beside the numbers §4.4's text states ({}):\n\n| model | ε | ours | thesis | difference | within 2σ |\n|---|---|---|---|---|---|\n{cmp}",
                stated.source
            );
        }
        let _ = writeln!(s.markdown, "**Verdict:** {}.\n", verdict(&cells, None));
        Ok(s)
    }
}
