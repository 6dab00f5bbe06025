//! What one gate of SGBN does on clean test images: the share of weights
//! it switches on and the histogram of its probabilities σ(a), beside the
//! shares the thesis states: the building block of `fig4.9` (gate 1) and
//! `figB.1` (gate 2).

use std::fmt::Write;

use serde::Deserialize;
use sgbn_metrics::Histogram;

use crate::{
    BarPanel, Experiment, ExperimentInfo, Figure, GateJob, Jobs, PlanContext, ReportContext,
    Result, Section, fmt_summary, summary,
};

/// Bins of the σ(a) histograms: "close to 0" is the first (σ < 0.1),
/// "close to 1" the last (σ ≥ 0.9).
pub const GATE_BINS: usize = 10;

/// The file of the thesis's gate shares under `data/thesis/`.
pub const GATES_FILE: &str = "gates.json";

/// The test images whose first-gate maps `fig4.7` and `fig4.8` draw: the
/// first 1 and the first 9 of the MNIST test set (the thesis's examples
/// "1 and 9").
pub const MAP_EXAMPLES: [usize; 2] = [2, 7];

/// The shares the thesis states for one gate (percent, approximate).
#[derive(Debug, Deserialize)]
pub struct ThesisGate {
    /// The figure.
    pub figure: String,
    /// Gate number (1 = first conv layer).
    pub gate: usize,
    /// Share of weights switched on, where stated.
    #[serde(default)]
    pub switched_on: Option<f64>,
    /// Share of σ(a) close to 1.
    pub close_to_one: f64,
    /// Share of σ(a) close to 0.
    pub close_to_zero: f64,
    /// The sentence it comes from.
    pub text: String,
}

/// `data/thesis/gates.json`.
#[derive(Debug, Deserialize)]
pub struct ThesisGates {
    /// Where in the thesis.
    pub source: String,
    /// The gates.
    pub gates: Vec<ThesisGate>,
}

/// The gate job of a run of SGBN: every figure of the gates shares it.
pub fn gate_job(ctx: &PlanContext<'_>, run: usize) -> Result<GateJob> {
    Ok(GateJob::new(
        &ctx.train_job("sgbn", run)?,
        ctx.profile.fgsm_test,
        GATE_BINS,
        &MAP_EXAMPLES,
    ))
}

/// One gate's histogram and shares.
#[derive(Debug)]
pub struct GateHistogram {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// Which gate (0: the first conv layer's).
    pub gate: usize,
}

impl Experiment for GateHistogram {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            jobs.trains.push(ctx.train_job("sgbn", run)?);
            jobs.add(gate_job(ctx, run)?);
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let thesis: ThesisGates = ctx.thesis(GATES_FILE)?;
        let stated = thesis.gates.iter().find(|g| g.gate == self.gate + 1);
        let (mut on, mut low, mut high) = (Vec::new(), Vec::new(), Vec::new());
        let mut pooled: Option<Histogram> = None;
        for run in 0..ctx.profile.runs {
            let Some(g) = ctx
                .results
                .get(&gate_job(&plan, run)?)
                .and_then(|r| r.gates.get(self.gate).cloned())
            else {
                continue;
            };
            let n = g.probabilities.total().max(1) as f64;
            let c = &g.probabilities.counts;
            on.push(100.0 * g.share_on.mean);
            low.push(100.0 * c[0] as f64 / n);
            high.push(100.0 * c[c.len() - 1] as f64 / n);
            match pooled.as_mut() {
                Some(p) => {
                    for (a, b) in p.counts.iter_mut().zip(c) {
                        *a += b;
                    }
                }
                None => pooled = Some(g.probabilities.clone()),
            }
        }
        let cell = |v: &[f64]| summary(v).map_or("–".into(), |s| fmt_summary(&s));
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Gate {} of SGBN on the first {} clean test images (evaluation mode; mean ± std over runs, %):\n\n| | ours | thesis (approximate) |\n|---|---|---|\n| weights switched on | {} | {} |\n| σ(a) close to 1 (≥ 0.9) | {} | {} |\n| σ(a) close to 0 (< 0.1) | {} | {} |",
            self.gate + 1,
            ctx.profile.fgsm_test,
            cell(&on),
            stated
                .and_then(|t| t.switched_on)
                .map_or("–".into(), |v| format!("≈ {v}")),
            cell(&high),
            stated.map_or("–".into(), |t| format!("≈ {}", t.close_to_one)),
            cell(&low),
            stated.map_or("–".into(), |t| format!("≈ {}", t.close_to_zero)),
        );
        if let Some(t) = stated {
            let _ = writeln!(
                md,
                "\nThe thesis ({}, {}): \"{}\"",
                thesis.source, t.figure, t.text
            );
        }
        let shares = pooled.as_ref().map(|h| {
            let n = h.total().max(1) as f64;
            h.counts.iter().map(|c| *c as f64 / n).collect::<Vec<_>>()
        });
        s.json.insert(
            "ours".into(),
            serde_json::json!({"switched_on": on, "close_to_one": high, "close_to_zero": low, "histogram": pooled}),
        );
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** the thesis states approximate shares without a spread, so there is no 2σ comparison; ours are printed beside them.\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Bars {
                title: format!("{}: σ(a) of gate {} of SGBN", self.info.id, self.gate + 1),
                x_label: "σ(a)".into(),
                cols: 1,
                panels: vec![BarPanel {
                    title: "all runs pooled".into(),
                    edges: (0..=GATE_BINS)
                        .map(|i| i as f64 / GATE_BINS as f64)
                        .collect(),
                    shares,
                }],
            },
        ));
        Ok(s)
    }
}
