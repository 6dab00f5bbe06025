//! `fig4.27`: the toy networks' predictions on the test inputs, best run of
//! each (Fig. 4.27, §4.6.5), with every run's test error.
//! The thesis states no number for it (the figure, and §4.6.5's reading of it).

use std::fmt::Write;

use super::toy::{TOY_MODELS, best, finished, jobs};
use crate::{
    Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, Section, Series,
    summary,
};

/// The experiment.
pub static FIG4_27: Fig4_27 = Fig4_27;

/// The toy predictions.
#[derive(Debug)]
pub struct Fig4_27;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.27",
    title: "Toy networks' test predictions (best run of each) and test errors",
    reference: "Fig. 4.27, §4.6.5, Tables 4.9–4.10",
    models: &[],
    default_set: true,
};

impl Experiment for Fig4_27 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        jobs(ctx)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Test mean squared error after {} full-batch iterations (× 1000; mean ± std over runs, and the best run, which the figure draws):\n\n| network | test MSE × 1000 | best run |\n|---|---|---|",
            ctx.profile.toy_iterations
        );
        let mut series = Vec::new();
        let mut means = Vec::new();
        for (k, (m, label)) in TOY_MODELS.iter().enumerate() {
            let mse: Vec<f64> = finished(ctx, m)
                .iter()
                .map(|r| 1000.0 * r.test_mse)
                .collect();
            let sm = summary(&mse);
            means.push(sm.map(|s| s.mean));
            let b = best(ctx, m);
            let _ = writeln!(
                md,
                "| {label} | {} | {} |",
                sm.map_or("–".into(), |s| format!(
                    "{:.2} ± {:.2} ({})",
                    s.mean, s.std, s.n
                )),
                b.as_ref()
                    .map_or("–".into(), |b| format!("{:.2}", 1000.0 * b.test_mse))
            );
            if let Some(b) = &b {
                if k == 0 {
                    series.push(Series {
                        label: "targets".into(),
                        points: b
                            .test_x
                            .iter()
                            .zip(&b.test_y)
                            .map(|(x, y)| (f64::from(*x), f64::from(*y), 0.0))
                            .collect(),
                        dashed: true,
                        color: 7,
                    });
                }
                series.push(Series {
                    label: (*label).into(),
                    points: b
                        .test_x
                        .iter()
                        .zip(&b.prediction)
                        .map(|(x, y)| (f64::from(*x), f64::from(*y), 0.0))
                        .collect(),
                    dashed: false,
                    color: k,
                });
            }
            s.json
                .insert((*m).into(), serde_json::json!({"test_mse": mse}));
        }
        let claim = match (means[0], means[2], means[4]) {
            (Some(wogm), Some(gm_dt), Some(gmwow_dt)) => format!(
                "**{}** — mean test MSE × 1000: WOGM {wogm:.2}, GM_DT {gm_dt:.2}, GMWOW_DT {gmwow_dt:.2}",
                if gm_dt < wogm && gmwow_dt < wogm {
                    "holds"
                } else {
                    "does not hold"
                }
            ),
            _ => "not computed".into(),
        };
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§4.6.5): the deterministic gated networks, with and without weight inputs (GM_DT, GMWOW_DT), fit better than the MLP (WOGM): {claim}. (The figure draws predictions below 0 at 0.)\n\n![fig4.27](figures/fig4.27.svg)\n\n**Verdict:** no thesis numbers to compare with (figure only).\n"
        );
        s.figures.push((
            "fig4.27.svg".into(),
            Figure::Line {
                title: "fig4.27: toy test predictions, best run".into(),
                x_label: "x".into(),
                y_label: "prediction".into(),
                y_max: 1.2,
                series,
            },
        ));
        Ok(s)
    }
}
