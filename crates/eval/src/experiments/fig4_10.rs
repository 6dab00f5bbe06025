//! `fig4.10`: a clean test digit, its FGSM perturbation at ε 0.3 and the
//! perturbed digit for SGBN, BNN with PGD, SAP, CNN-BIN and CNN (Fig. 4.10,
//! §4.5), with how much of the image each perturbation changes.

use std::fmt::Write;

use super::fgsm_images::{panels, spread};
use crate::{
    AttackSpec, ExamplesJob, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext,
    Result, Section, available,
};

/// The experiment.
pub static FIG4_10: Fig4_10 = Fig4_10;

/// The perturbation figure.
#[derive(Debug)]
pub struct Fig4_10;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.10",
    title: "Clean digit, FGSM perturbation (ε 0.3) and perturbed digit per model",
    reference: "Fig. 4.10, §4.5",
    models: &["sgbn", "bnn-pgd", "sap", "cnn-bin", "cnn"],
    default_set: true,
};

/// The test images drawn: the thesis shows its "Example 4"; we draw test
/// image 4 (a 4) and the two before it (a 1 and a 0).
const INDICES: [usize; 3] = [2, 3, 4];

/// FGSM budget of the figure.
const EPS: f64 = 0.3;

fn job(ctx: &PlanContext<'_>, model: &str) -> Result<ExamplesJob> {
    Ok(ExamplesJob::new(
        &ctx.train_job(model, 0)?,
        AttackSpec::fgsm(EPS),
        &INDICES,
    ))
}

impl Experiment for Fig4_10 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for m in INFO.models.iter().filter(|m| available(m)) {
            jobs.trains.push(ctx.train_job(m, 0)?);
            jobs.examples.push(job(ctx, m)?);
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "FGSM at ε = {EPS} on test images {INDICES:?}, run 0. One row of the figure per model and image: clean, perturbation (red +, blue −, white 0), perturbed.\n\n| model | image (label) | prediction on the perturbed image | pixels changed | mean distance of the perturbation from the centre (px) |\n|---|---|---|---|---|"
        );
        let mut rows = Vec::new();
        let mut changed_by_model = Vec::new();
        for m in INFO.models.iter().filter(|m| available(m)) {
            let Some(result) = ctx.results.examples(&job(&plan, m)?) else {
                let _ = writeln!(md, "| {m} | – | – | – | – |");
                continue;
            };
            let mut total = 0.0;
            for ex in &result.examples {
                let (dist, changed) = spread(ex, result.shape[2]);
                total += changed;
                let _ = writeln!(
                    md,
                    "| {m} | {} ({}) | {} | {:.0} % | {dist:.1} |",
                    ex.index,
                    ex.label,
                    ex.prediction,
                    100.0 * changed
                );
                rows.push((
                    format!("{m}, image {}", ex.index),
                    panels(ex, result.shape).to_vec(),
                ));
            }
            let mean = total / result.examples.len().max(1) as f64;
            changed_by_model.push((m.to_string(), mean));
            s.json
                .insert(m.to_string(), serde_json::json!({"pixels_changed": mean}));
        }
        let claim = if changed_by_model.len() == INFO.models.len() {
            let (top, share) = changed_by_model.iter().cloned().fold(
                (String::new(), f64::NEG_INFINITY),
                |b, x| {
                    if x.1 > b.1 { x } else { b }
                },
            );
            format!(
                "**{}** — the most pixels changed: {top} ({:.0} %)",
                if top == "sgbn" {
                    "holds"
                } else {
                    "does not hold"
                },
                100.0 * share
            )
        } else {
            "not computed".into()
        };
        let name = "fig4.10.png";
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§4.5): SGBN's perturbations are spread over the entire image (checked: SGBN changes the most pixels): {claim}.\n\n![fig4.10](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (images).\n"
        );
        s.figures.push((
            name.into(),
            Figure::Images {
                title: format!("fig4.10: FGSM at ε = {EPS}"),
                rows,
            },
        ));
        Ok(s)
    }
}
