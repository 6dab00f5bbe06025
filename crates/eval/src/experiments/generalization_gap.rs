//! Clean training and test accuracy and their gap for some chapter-4
//! models, with a claim of the thesis checked on them: the building block
//! of `fig4.14` (SGBN (ST), SGBN (DT), CNN-BIN) and `figC.1` (SGBN, SGBN
//! with a ReLU dense layer).

use std::fmt::Write;

use crate::{
    AccuracyJob, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result,
    Section, Split, fmt_summary, summary,
};

/// A claim about the gaps: `(text, check)`, the check given each model's
/// mean gap (in the experiment's order) and returning whether it holds.
pub type GapClaim = (&'static str, fn(&[f64]) -> bool);

/// Training and test accuracy of some models.
#[derive(Debug)]
pub struct GeneralizationGap {
    /// Its names, place and models.
    pub info: ExperimentInfo,
    /// The thesis's claim, if it makes one.
    pub claim: Option<GapClaim>,
}

fn job(ctx: &PlanContext<'_>, model: &str, run: usize, split: Split) -> Result<AccuracyJob> {
    let size = match split {
        Split::Train => None,
        Split::Test => Some(ctx.profile.fgsm_test),
    };
    Ok(AccuracyJob::new(&ctx.train_job(model, run)?, split, size))
}

impl Experiment for GeneralizationGap {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in self.info.built_models() {
                jobs.trains.push(ctx.train_job(m, run)?);
                for split in [Split::Train, Split::Test] {
                    jobs.add(job(ctx, m, run, split)?);
                }
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Clean accuracy (%) after training, in evaluation mode, on the images each run trained on and on the first {} test images:\n\n| model | training | test | train − test |\n|---|---|---|---|",
            ctx.profile.fgsm_test
        );
        let mut gaps_by_model = Vec::new();
        let (mut rows, mut values) = (Vec::new(), Vec::new());
        for m in self.info.built_models() {
            let (mut train, mut test, mut gap) = (Vec::new(), Vec::new(), Vec::new());
            for run in 0..ctx.profile.runs {
                let a = ctx.results.get(&job(&plan, m, run, Split::Train)?);
                let b = ctx.results.get(&job(&plan, m, run, Split::Test)?);
                if let Some(a) = &a {
                    train.push(100.0 * a.accuracy);
                }
                if let Some(b) = &b {
                    test.push(100.0 * b.accuracy);
                }
                if let (Some(a), Some(b)) = (a, b) {
                    gap.push(100.0 * (a.accuracy - b.accuracy));
                }
            }
            let cell = |v: &[f64]| summary(v).map_or("–".into(), |s| fmt_summary(&s));
            let _ = writeln!(
                md,
                "| {m} | {} | {} | {} |",
                cell(&train),
                cell(&test),
                cell(&gap)
            );
            if let Some(g) = summary(&gap) {
                gaps_by_model.push((m, g.mean));
            }
            let mean = |v: &[f64]| summary(v).map(|s| s.mean);
            rows.push(m.to_string());
            values.push(vec![mean(&train), mean(&test), mean(&gap)]);
            s.json.insert(
                m.to_string(),
                serde_json::json!({"train": train, "test": test, "gap": gap}),
            );
        }
        let claim = match self.claim {
            Some((text, check)) => {
                let line = if gaps_by_model.len() == self.info.models.len() {
                    let gaps: Vec<f64> = gaps_by_model.iter().map(|g| g.1).collect();
                    format!(
                        "**{}** — gaps: {}",
                        if check(&gaps) {
                            "holds"
                        } else {
                            "does not hold"
                        },
                        gaps_by_model
                            .iter()
                            .map(|(m, g)| format!("{m} {g:.2}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    "not computed".into()
                };
                format!(
                    "\nThe thesis's claim ({}): {text}: {line}.\n",
                    self.info.reference
                )
            }
            None => String::new(),
        };
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "{claim}\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (a figure).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Heat {
                title: format!(
                    "{}: clean accuracy (%) and its train − test gap, mean over runs",
                    self.info.id
                ),
                rows,
                cols: vec!["training".into(), "test".into(), "train − test".into()],
                values,
                row_label: "model".into(),
                col_label: "images".into(),
            },
        ));
        Ok(s)
    }
}
