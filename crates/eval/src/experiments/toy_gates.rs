//! The toy gates' two outputs against the test input, best run (§4.6.5):
//! the building block of `fig4.30` (stochastic gates: which of the two
//! hidden → output weights each input uses) and `fig4.31` (deterministic
//! gates: σ(a) of each weight, p1 and p2).

use std::fmt::Write;

use super::toy::{best, jobs};
use crate::{
    Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, Section, Series,
};

/// The gates' outputs of two toy networks.
#[derive(Debug)]
pub struct ToyGates {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// `(network, label)`: with and without the weight inputs.
    pub models: [(&'static str, &'static str); 2],
}

impl Experiment for ToyGates {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        jobs(ctx)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "The gate's two outputs for each test input, in the best run (masks for a stochastic gate, σ(a) for a deterministic one):\n\n| network | inputs using only weight 1 | only weight 2 | both | neither | mean output 1 | mean output 2 |\n|---|---|---|---|---|---|---|"
        );
        let mut series = Vec::new();
        for (k, (m, label)) in self.models.iter().enumerate() {
            let Some(b) = best(ctx, m) else {
                let _ = writeln!(md, "| {label} | – | – | – | – | – | – |");
                continue;
            };
            let n = b.gate.len().max(1) as f64;
            let on = |v: f32| v >= 0.5;
            let count = |f: &dyn Fn(&[f32; 2]) -> bool| {
                format!(
                    "{:.0} %",
                    100.0 * b.gate.iter().filter(|g| f(g)).count() as f64 / n
                )
            };
            let mean = |i: usize| b.gate.iter().map(|g| f64::from(g[i])).sum::<f64>() / n;
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {:.2} | {:.2} |",
                count(&|g| on(g[0]) && !on(g[1])),
                count(&|g| !on(g[0]) && on(g[1])),
                count(&|g| on(g[0]) && on(g[1])),
                count(&|g| !on(g[0]) && !on(g[1])),
                mean(0),
                mean(1)
            );
            for i in 0..2 {
                series.push(Series {
                    label: format!("{label}, output {}", i + 1),
                    points: b
                        .test_x
                        .iter()
                        .zip(&b.gate)
                        .map(|(x, g)| (f64::from(*x), f64::from(g[i]), 0.0))
                        .collect(),
                    dashed: i == 1,
                    color: k,
                });
            }
            s.json.insert(
                (*m).into(),
                serde_json::json!({"x": b.test_x, "gate": b.gate}),
            );
        }
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "\n(For a deterministic gate, \"using\" a weight means σ(a) ≥ 0.5.)\n\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (figure only).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Line {
                title: format!("{}: toy gate outputs against the input", self.info.id),
                x_label: "x".into(),
                y_label: "gate output".into(),
                y_max: 1.0,
                series,
            },
        ));
        Ok(s)
    }
}
