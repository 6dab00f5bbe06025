//! `fig4.28`: the toy networks' learning curves, mean training error over
//! runs against iteration (Fig. 4.28, §4.6.5). The thesis states no number
//! for it (the figure, and §4.6.5's reading of it).

use std::fmt::Write;

use super::toy::{TOY_MODELS, finished, jobs};
use crate::{
    Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, Section, Series,
    TOY_CURVE_EVERY,
};

/// The experiment.
pub static FIG4_28: Fig4_28 = Fig4_28;

/// The toy learning curves.
#[derive(Debug)]
pub struct Fig4_28;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.28",
    title: "Toy networks' learning curves (mean training MSE over runs)",
    reference: "Fig. 4.28, §4.6.5",
    models: &[],
    default_set: true,
};

/// The mean over runs of each kept point of the learning curve.
fn mean_curve(runs: &[crate::ToyResult]) -> Vec<f64> {
    let len = runs.iter().map(|r| r.train_mse.len()).min().unwrap_or(0);
    (0..len)
        .map(|i| runs.iter().map(|r| r.train_mse[i]).sum::<f64>() / runs.len() as f64)
        .collect()
}

impl Experiment for Fig4_28 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        jobs(ctx)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let it = ctx.profile.toy_iterations;
        let check_at = it / 5 / TOY_CURVE_EVERY;
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Mean training MSE (× 1000) over the runs, every {TOY_CURVE_EVERY} iterations; at iteration {} and at the end:\n\n| network | runs | at {} | at the end |\n|---|---|---|---|",
            check_at * TOY_CURVE_EVERY,
            check_at * TOY_CURVE_EVERY
        );
        let mut series = Vec::new();
        let mut early = Vec::new();
        let mut top: f64 = 0.0;
        for (k, (m, label)) in TOY_MODELS.iter().enumerate() {
            let runs = finished(ctx, m);
            let curve = mean_curve(&runs);
            top = curve.iter().copied().fold(top, f64::max);
            early.push(curve.get(check_at).copied());
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} |",
                runs.len(),
                curve
                    .get(check_at)
                    .map_or("–".into(), |v| format!("{:.2}", 1000.0 * v)),
                curve
                    .last()
                    .map_or("–".into(), |v| format!("{:.2}", 1000.0 * v))
            );
            s.json
                .insert((*m).into(), serde_json::json!({"mean_train_mse": curve}));
            series.push(Series {
                label: (*label).into(),
                points: curve
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i * TOY_CURVE_EVERY) as f64, *v, 0.0))
                    .collect(),
                dashed: false,
                color: k,
            });
        }
        let claim = match (early[1], early[2], early[3], early[4]) {
            (Some(gm_st), Some(gm_dt), Some(wow_st), Some(wow_dt)) => format!(
                "**{}** — at iteration {}: GMWOW_ST {:.2} vs GM_ST {:.2}, GMWOW_DT {:.2} vs GM_DT {:.2} (× 1000)",
                if wow_st < gm_st && wow_dt < gm_dt {
                    "holds"
                } else {
                    "does not hold"
                },
                check_at * TOY_CURVE_EVERY,
                1000.0 * wow_st,
                1000.0 * gm_st,
                1000.0 * wow_dt,
                1000.0 * gm_dt
            ),
            _ => "not computed".into(),
        };
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§4.6.5): the networks without weight inputs converge faster than those with them (checked: lower mean training error a fifth of the way in): {claim}.\n\n![fig4.28](figures/fig4.28.svg)\n\n**Verdict:** no thesis numbers to compare with (figure only).\n"
        );
        s.figures.push((
            "fig4.28.svg".into(),
            Figure::Line {
                title: "fig4.28: toy learning curves".into(),
                x_label: "iteration".into(),
                y_label: "training MSE".into(),
                y_max: if top > 0.0 { top } else { 1.0 },
                series,
            },
        ));
        Ok(s)
    }
}
