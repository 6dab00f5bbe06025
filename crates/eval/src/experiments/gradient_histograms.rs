//! Histograms of the input gradient ∇ₓ CE on clean test images and their
//! spread, with the thesis's claim about which is widest: the building
//! block of `fig4.16` (SGBN (ST), SGBN (DT), CNN-BIN) and `fig4.20` (SGBN,
//! 1st-GM, 2nd-GM).

use std::fmt::Write;

use serde::Deserialize;
use sgbn_metrics::Histogram;

use crate::{
    BarPanel, Experiment, ExperimentInfo, Figure, GradientJob, Jobs, PlanContext, ReportContext,
    Result, Section, fmt_summary, summary,
};

/// Input-gradient histograms of some models.
#[derive(Debug)]
pub struct GradientHistograms {
    /// Its names, place and models.
    pub info: ExperimentInfo,
    /// The thesis's claim and its check, given each model's mean spread
    /// (in the experiment's order).
    pub claim: (&'static str, fn(&[f64]) -> bool),
}

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

impl Experiment for GradientHistograms {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in self.info.built_models() {
                jobs.trains.push(ctx.train_job(m, run)?);
                jobs.add(job(ctx, m, run)?);
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
        for m in self.info.built_models() {
            let (mut means, mut sd, mut zeros, mut outside) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut pooled: Option<Histogram> = None;
            for run in 0..ctx.profile.runs {
                let Some(r) = ctx.results.get(&job(&plan, m, run)?) else {
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
        let stated_any = thesis
            .rows
            .iter()
            .any(|r| self.info.models.contains(&r.model.as_str()));
        let (text, check) = self.claim;
        let claim = if stds.len() == self.info.models.len() {
            let spreads: Vec<f64> = stds.iter().map(|x| x.1).collect();
            format!(
                "**{}** — std: {}",
                if check(&spreads) {
                    "holds"
                } else {
                    "does not hold"
                },
                stds.iter()
                    .map(|(m, v)| format!("{m} {v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            "not computed".into()
        };
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "\nThe thesis ({}): {text}: {claim}.{}\n\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers with a spread to compare with.\n",
            self.info.reference,
            if stated_any {
                format!(
                    " The stated σ ({}) has no spread, so there is no 2σ verdict; note that the authors' code differentiates CE / 10 (the mean over classes), which scales every component by 0.1.",
                    thesis.source
                )
            } else {
                String::new()
            },
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Bars {
                title: format!("{}: components of ∇ₓ CE on clean test images", self.info.id),
                x_label: "∂CE/∂x".into(),
                cols: panels.len().max(1),
                panels,
            },
        ));
        Ok(s)
    }
}
