//! `fig4.14`: the train − test accuracy gap of SGBN (ST), SGBN (DT) and
//! CNN-BIN, on clean images (Fig. 4.14, §4.6.1).

use std::fmt::Write;

use crate::{
    AccuracyJob, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result,
    Section, Split, available, fmt_summary, summary,
};

/// The experiment.
pub static FIG4_14: Fig4_14 = Fig4_14;

/// The generalization figure.
#[derive(Debug)]
pub struct Fig4_14;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.14",
    title: "Train − test accuracy of SGBN (ST), SGBN (DT) and CNN-BIN",
    reference: "Fig. 4.14, §4.6.1",
    models: &["sgbn", "sgbn-dt", "cnn-bin"],
    default_set: true,
};

fn job(ctx: &PlanContext<'_>, model: &str, run: usize, split: Split) -> Result<AccuracyJob> {
    let size = match split {
        Split::Train => None,
        Split::Test => Some(ctx.profile.fgsm_test),
    };
    Ok(AccuracyJob::new(&ctx.train_job(model, run)?, split, size))
}

fn models() -> impl Iterator<Item = &'static str> {
    INFO.models.iter().copied().filter(|m| available(m))
}

impl Experiment for Fig4_14 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in models() {
                jobs.trains.push(ctx.train_job(m, run)?);
                for split in [Split::Train, Split::Test] {
                    jobs.accuracies.push(job(ctx, m, run, split)?);
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
        for m in models() {
            let (mut train, mut test, mut gap) = (Vec::new(), Vec::new(), Vec::new());
            for run in 0..ctx.profile.runs {
                let a = ctx.results.accuracy(&job(&plan, m, run, Split::Train)?);
                let b = ctx.results.accuracy(&job(&plan, m, run, Split::Test)?);
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
        let get = |name: &str| gaps_by_model.iter().find(|(m, _)| *m == name).map(|x| x.1);
        let claim = match (get("sgbn"), get("sgbn-dt"), get("cnn-bin")) {
            (Some(st), Some(dt), Some(bin)) => format!(
                "**{}** — gaps: SGBN (ST) {st:.2}, SGBN (DT) {dt:.2}, CNN-BIN {bin:.2} points",
                if st < dt && st < bin {
                    "holds"
                } else {
                    "does not hold"
                }
            ),
            _ => "not computed".into(),
        };
        let name = "fig4.14.svg";
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§4.6.1): the gap of SGBN (ST) is smaller than those of SGBN (DT) and CNN-BIN: {claim}.\n\n![fig4.14](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (a figure).\n"
        );
        s.figures.push((
            name.into(),
            Figure::Heat {
                title: "fig4.14: clean accuracy (%) and its train − test gap, mean over runs"
                    .into(),
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
