//! Clean test digits, their FGSM perturbations and the perturbed digits
//! for some chapter-4 models, as PNG, with how much of each image the
//! perturbation changes: the building block of `fig4.10` (SGBN, BNN with
//! PGD, SAP, CNN-BIN, CNN) and `figD.1`, `figD.2` (the gate probes).

use std::fmt::Write;

use super::fgsm_images::{panels, spread};
use crate::{
    AttackSpec, ExamplesJob, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext,
    Result, Section, available,
};

/// The test images drawn: the thesis shows its "Example 4"; we draw test
/// image 4 (a 4) and the two before it (a 1 and a 0).
pub const INDICES: [usize; 3] = [2, 3, 4];

/// FGSM budget of the figures (ε 0.3, as Fig. 4.10).
const EPS: f64 = 0.3;

/// Perturbation images of some models.
#[derive(Debug)]
pub struct PerturbationImages {
    /// Its names, place and models.
    pub info: ExperimentInfo,
    /// Whether to check §4.5's claim that SGBN's perturbation is the most
    /// spread (its models must include `sgbn`).
    pub spread_claim: bool,
}

fn job(ctx: &PlanContext<'_>, model: &str) -> Result<ExamplesJob> {
    Ok(ExamplesJob::new(
        &ctx.train_job(model, 0)?,
        AttackSpec::fgsm(EPS),
        &INDICES,
    ))
}

impl Experiment for PerturbationImages {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for m in self.info.models.iter().filter(|m| available(m)) {
            jobs.trains.push(ctx.train_job(m, 0)?);
            jobs.add(job(ctx, m)?);
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
        for m in self.info.models.iter().filter(|m| available(m)) {
            let Some(result) = ctx.results.get(&job(&plan, m)?) else {
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
        let claim = if changed_by_model.len() == self.info.models.len() {
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
        if self.spread_claim {
            let _ = writeln!(
                md,
                "\nThe thesis's claim (§4.5): SGBN's perturbations are spread over the entire image (checked: SGBN changes the most pixels): {claim}."
            );
        }
        let name = format!("{}.png", self.info.id);
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (images).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Images {
                title: format!("{}: FGSM at ε = {EPS}", self.info.id),
                rows,
            },
        ));
        Ok(s)
    }
}
