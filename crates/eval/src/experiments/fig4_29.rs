//! `fig4.29`: histograms of the toy gates' σ(a) on the training inputs at
//! 0, 1/5, 3/5 and all of training, GM_ST against GMWOW_ST, every run pooled
//! (Fig. 4.29, §4.6.5). The thesis states no number for it (the figure, and
//! §4.6.5's reading of it).

use std::fmt::Write;

use sgbn_metrics::Histogram;

use super::toy::{finished, jobs, snapshots};
use crate::{
    BarPanel, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, Section,
};

/// The experiment.
pub static FIG4_29: Fig4_29 = Fig4_29;

/// The toy σ histograms.
#[derive(Debug)]
pub struct Fig4_29;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.29",
    title: "Toy gates' σ(a) during training: GM_ST vs GMWOW_ST",
    reference: "Fig. 4.29, §4.6.5",
    models: &[],
    default_set: true,
};

const MODELS: [(&str, &str); 2] = [("toy-gm-st", "GM_ST"), ("toy-gmwow-st", "GMWOW_ST")];

/// Share of σ(a) below 0.1 or at 0.9 and above.
fn near_binary(h: &Histogram) -> f64 {
    let c = &h.counts;
    (c[0] + c[c.len() - 1]) as f64 / h.total().max(1) as f64
}

impl Experiment for Fig4_29 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        jobs(ctx)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let steps = snapshots(ctx.profile.toy_iterations);
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = write!(
            md,
            "Share of σ(a) near 0 or 1 (< 0.1 or ≥ 0.9), every run pooled:\n\n| network |"
        );
        for i in &steps {
            let _ = write!(md, " iteration {i} |");
        }
        let _ = writeln!(md, "\n|---|{}", "---|".repeat(steps.len()));
        let mut pooled: Vec<Vec<Option<Histogram>>> = Vec::new();
        let mut held = Vec::new();
        for (m, label) in MODELS {
            let runs = finished(ctx, m);
            let row: Vec<Option<Histogram>> = steps
                .iter()
                .map(|i| {
                    let mut total: Option<Histogram> = None;
                    for r in &runs {
                        if let Some((_, h)) = r.sigma.iter().find(|(j, _)| j == i) {
                            match total.as_mut() {
                                Some(t) => {
                                    for (a, b) in t.counts.iter_mut().zip(&h.counts) {
                                        *a += b;
                                    }
                                }
                                None => total = Some(h.clone()),
                            }
                        }
                    }
                    total
                })
                .collect();
            let _ = write!(md, "| {label} |");
            for h in &row {
                let _ = write!(
                    md,
                    " {} |",
                    h.as_ref()
                        .map_or("–".into(), |h| format!("{:.0} %", 100.0 * near_binary(h)))
                );
            }
            let _ = writeln!(md);
            if let (Some(Some(first)), Some(Some(last))) = (row.first(), row.last()) {
                held.push((label, near_binary(first), near_binary(last)));
            }
            s.json.insert(
                m.into(),
                serde_json::json!({"iterations": steps, "histograms": row}),
            );
            pooled.push(row);
        }
        let claim = if held.len() == MODELS.len() {
            format!(
                "**{}** — {}",
                if held.iter().all(|(_, a, b)| b > a) {
                    "holds"
                } else {
                    "does not hold"
                },
                held.iter()
                    .map(|(l, a, b)| format!("{l}: {:.0} % → {:.0} %", 100.0 * a, 100.0 * b))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        } else {
            "not computed".into()
        };
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§4.6.5): both stochastic gates become nearly deterministic as training goes on (checked: more σ(a) near 0 or 1 at the end than at the start): {claim}.\n\n![fig4.29](figures/fig4.29.svg)\n\n**Verdict:** no thesis numbers to compare with (figure only).\n"
        );
        let mut panels = Vec::new();
        for (k, i) in steps.iter().enumerate() {
            for (row, (_, label)) in pooled.iter().zip(MODELS) {
                let h = row[k].as_ref();
                let bins = h.map_or(crate::TOY_BINS, |h| h.counts.len());
                panels.push(BarPanel {
                    title: format!("{label}, iteration {i}"),
                    edges: (0..=bins).map(|b| b as f64 / bins as f64).collect(),
                    shares: h.map(|h| {
                        let n = h.total().max(1) as f64;
                        h.counts.iter().map(|c| *c as f64 / n).collect()
                    }),
                });
            }
        }
        s.figures.push((
            "fig4.29.svg".into(),
            Figure::Bars {
                title: "fig4.29: σ(a) of the toy gates during training".into(),
                x_label: "σ(a)".into(),
                cols: MODELS.len(),
                panels,
            },
        ));
        Ok(s)
    }
}
