//! `fig4.17`: the gate probes' heads as they train (§4.6.2): the training
//! accuracy of 1st-GM and 2nd-GM per epoch and their clean test accuracy
//! beside the 84.2 % and 95.8 % the text states. (The thesis's Fig. 4.17
//! draws which parameters train; the learning curves are ours.)

use std::fmt::Write;

use serde::Deserialize;

use crate::{
    AttackSpec, EvalJob, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext,
    Result, Section, Series, fmt_summary, summary,
};

/// The experiment.
pub static FIG4_17: Fig4_17 = Fig4_17;

/// The probes' learning curves.
#[derive(Debug)]
pub struct Fig4_17;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.17",
    title: "Gate probes 1st-GM and 2nd-GM: training accuracy per epoch and clean test accuracy",
    reference: "Fig. 4.17, §4.6.2, Tables 4.5–4.6",
    models: &["1st-gm", "2nd-gm"],
    default_set: true,
};

/// `data/thesis/probes.json`.
#[derive(Debug, Deserialize)]
struct ThesisProbes {
    source: String,
    clean: Vec<(String, f64)>,
}

fn clean(ctx: &PlanContext<'_>, model: &str, run: usize) -> Result<EvalJob> {
    // fig4.18's evaluation at ε 0 (same key): one pass on the profile's
    // FGSM images.
    Ok(EvalJob::new(
        &ctx.train_job(model, run)?,
        AttackSpec::fgsm(0.0),
        ctx.profile.fgsm_test,
        1,
    ))
}

impl Experiment for Fig4_17 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in INFO.models {
                let t = ctx.train_job(m, run)?;
                if let Some(base) = &t.base {
                    jobs.trains.push((**base).clone());
                }
                jobs.trains.push(t);
                jobs.add(clean(ctx, m, run)?);
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let thesis: ThesisProbes = ctx.thesis("probes.json")?;
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Each probe trains a dense head on the frozen gate of the same run's SGBN ({} epoch(s) here; the thesis: 5,000 iterations of 50, learning rate 1e-3 for 1st-GM and 1e-4 for 2nd-GM).\n\n| probe | clean test accuracy | thesis (no spread stated) | training accuracy by epoch |\n|---|---|---|---|",
            ctx.profile.probe_epochs
        );
        let mut series = Vec::new();
        for (k, m) in INFO.models.iter().enumerate() {
            let mut test = Vec::new();
            let mut curves: Vec<Vec<f64>> = Vec::new();
            for run in 0..ctx.profile.runs {
                if let Some(r) = ctx.results.get(&clean(&plan, m, run)?) {
                    test.push(100.0 * r.headline());
                }
                if let Some(t) = ctx.results.trained(&plan.train_job(m, run)?) {
                    for (e, log) in t.log.iter().enumerate() {
                        if curves.len() <= e {
                            curves.push(Vec::new());
                        }
                        curves[e].push(100.0 * log.train_accuracy);
                    }
                }
            }
            let points: Vec<(f64, f64, f64)> = curves
                .iter()
                .enumerate()
                .filter_map(|(e, v)| summary(v).map(|s| ((e + 1) as f64, s.mean, s.std)))
                .collect();
            let stated = thesis
                .clean
                .iter()
                .find(|(n, _)| n == m)
                .map_or("–".into(), |(_, v)| format!("{v:.1}"));
            let _ = writeln!(
                md,
                "| {m} | {} | {stated} | {} |",
                summary(&test).map_or("–".into(), |s| fmt_summary(&s)),
                if points.is_empty() {
                    "–".into()
                } else {
                    points
                        .iter()
                        .map(|p| format!("{:.1}", p.1))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            s.json.insert(
                (*m).into(),
                serde_json::json!({"test": test, "train_by_epoch": curves}),
            );
            series.push(Series {
                label: m.to_string(),
                points,
                dashed: false,
                color: k,
            });
        }
        let _ = writeln!(
            md,
            "\nThe thesis ({}) states the clean accuracies without a spread, so there is no 2σ verdict.\n\n![fig4.17](figures/fig4.17.svg)\n\n**Verdict:** no thesis numbers with a spread to compare with.\n",
            thesis.source
        );
        s.figures.push((
            "fig4.17.svg".into(),
            Figure::Line {
                title: "fig4.17: training accuracy of the probes' heads".into(),
                x_label: "epoch".into(),
                y_label: "training accuracy (%)".into(),
                y_max: 100.0,
                series,
            },
        ));
        Ok(s)
    }
}
