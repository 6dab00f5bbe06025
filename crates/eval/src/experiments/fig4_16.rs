//! `fig4.16`: histograms of the input gradient ∇ₓ CE on clean test images
//! for SGBN (ST), SGBN (DT) and CNN-BIN, and their spread (Fig. 4.16,
//! §4.6.1).

use std::fmt::Write;

use serde::Deserialize;
use sgbn_metrics::Histogram;

use crate::{
    BarPanel, Experiment, ExperimentInfo, Figure, GradientJob, Jobs, PlanContext, ReportContext,
    Result, Section, available, fmt_summary, summary,
};

/// The experiment.
pub static FIG4_16: Fig4_16 = Fig4_16;

/// The gradient histograms.
#[derive(Debug)]
pub struct Fig4_16;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.16",
    title: "Input-gradient histograms of SGBN (ST), SGBN (DT) and CNN-BIN",
    reference: "Fig. 4.16, §4.6.1",
    models: &["sgbn", "sgbn-dt", "cnn-bin"],
    default_set: true,
};

/// The histograms' range `[−RANGE, RANGE]` and bins.
const RANGE: f64 = 0.1;
const BINS: usize = 40;

/// `data/thesis/gradients.json`: the spreads the thesis prints.
#[derive(Debug, Deserialize)]
struct ThesisGradients {
    source: String,
    rows: Vec<ThesisSpread>,
}

#[derive(Debug, Deserialize)]
struct ThesisSpread {
    model: String,
    mean: f64,
    std: f64,
}

fn job(ctx: &PlanContext<'_>, model: &str, run: usize) -> Result<GradientJob> {
    Ok(GradientJob::new(
        &ctx.train_job(model, run)?,
        ctx.profile.fgsm_test,
        RANGE,
        BINS,
    ))
}

fn models() -> impl Iterator<Item = &'static str> {
    INFO.models.iter().copied().filter(|m| available(m))
}

impl Experiment for Fig4_16 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in models() {
                jobs.trains.push(ctx.train_job(m, run)?);
                jobs.gradients.push(job(ctx, m, run)?);
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let thesis: ThesisGradients = ctx.thesis("gradients.json")?;
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "∇ₓ CE at the true labels on the first {} clean test images (one draw of each model's randomness; mean ± std over runs):\n\n| model | mean | std of the components | zero components | outside ±{RANGE} | thesis (μ, σ) |\n|---|---|---|---|---|---|",
            ctx.profile.fgsm_test
        );
        let mut panels = Vec::new();
        let mut stds = Vec::new();
        for m in models() {
            let (mut means, mut sd, mut zeros, mut outside) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut pooled: Option<Histogram> = None;
            for run in 0..ctx.profile.runs {
                let Some(r) = ctx.results.gradients(&job(&plan, m, run)?) else {
                    continue;
                };
                means.push(r.stats.mean);
                sd.push(r.stats.variance.sqrt());
                zeros.push(100.0 * r.stats.zero_fraction);
                let h = &r.histogram;
                outside.push(
                    100.0 * (h.below + h.above) as f64 / (h.total() + h.non_finite).max(1) as f64,
                );
                match pooled.as_mut() {
                    Some(p) => {
                        for (a, b) in p.counts.iter_mut().zip(&h.counts) {
                            *a += b;
                        }
                    }
                    None => pooled = Some(h.clone()),
                }
            }
            let num = |v: &[f64], digits: usize| {
                summary(v).map_or("–".into(), |s| {
                    if s.n > 1 {
                        format!("{:.*} ± {:.*} ({})", digits, s.mean, digits, s.std, s.n)
                    } else {
                        format!("{:.*} (1)", digits, s.mean)
                    }
                })
            };
            let pct = |v: &[f64]| summary(v).map_or("–".into(), |s| fmt_summary(&s));
            let stated = thesis
                .rows
                .iter()
                .find(|r| r.model == m)
                .map_or("–".into(), |r| format!("{:.3}, {:.3}", r.mean, r.std));
            let _ = writeln!(
                md,
                "| {m} | {} | {} | {} % | {} % | {stated} |",
                num(&means, 4),
                num(&sd, 4),
                pct(&zeros),
                pct(&outside)
            );
            if let Some(sm) = summary(&sd) {
                stds.push((m, sm.mean));
            }
            panels.push(BarPanel {
                title: m.to_string(),
                edges: (0..=BINS)
                    .map(|i| -RANGE + 2.0 * RANGE * i as f64 / BINS as f64)
                    .collect(),
                shares: pooled.as_ref().map(|h| {
                    let n = h.total().max(1) as f64;
                    h.counts.iter().map(|c| *c as f64 / n).collect()
                }),
            });
            s.json.insert(
                m.to_string(),
                serde_json::json!({"mean": means, "std": sd, "zero_percent": zeros, "histogram": pooled}),
            );
        }
        let get = |name: &str| stds.iter().find(|x| x.0 == name).map(|x| x.1);
        let claim = match (get("sgbn"), get("sgbn-dt"), get("cnn-bin")) {
            (Some(st), Some(dt), Some(bin)) => format!(
                "**{}** — std: SGBN (ST) {st:.4}, SGBN (DT) {dt:.4}, CNN-BIN {bin:.4}",
                if st > dt && st > bin {
                    "holds"
                } else {
                    "does not hold"
                }
            ),
            _ => "not computed".into(),
        };
        let name = "fig4.16.svg";
        let _ = writeln!(
            md,
            "\nThe thesis ({}): the gradient variance of SGBN (ST) is larger than those of SGBN (DT) and CNN-BIN: {claim}. Its stated σ has no spread, so there is no 2σ verdict; note that the authors' code differentiates CE / 10 (the mean over classes), which scales every component by 0.1.\n\n![fig4.16](figures/{name})\n\n**Verdict:** no thesis numbers with a spread to compare with.\n",
            thesis.source
        );
        s.figures.push((
            name.into(),
            Figure::Bars {
                title: "fig4.16: components of ∇ₓ CE on clean test images".into(),
                x_label: "∂CE/∂x".into(),
                cols: panels.len().max(1),
                panels,
            },
        ));
        Ok(s)
    }
}
