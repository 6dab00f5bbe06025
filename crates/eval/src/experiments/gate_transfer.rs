//! One model's accuracy on FGSM examples crafted on SGBN and on its gate
//! probes 1st-GM and 2nd-GM, against ε (§4.6.2): the building block of
//! `fig4.19` (CNN) and `figD.3`–`figD.5` (CNN-BIN, SAP, BNN with PGD). The
//! four share their transfer sets: each source's examples are classified by
//! every target at once.

use std::fmt::Write;

use crate::{
    Experiment, ExperimentInfo, Figure, Jobs, PlanContext, RESULTS_VERSION, ReportContext, Result,
    Section, Series, TransferJob, available, eps_columns, fmt_summary, summary,
};

/// The sources, in legend order.
pub const SOURCES: [&str; 3] = ["sgbn", "1st-gm", "2nd-gm"];

/// The targets of the shared transfer sets.
pub const TARGETS: [&str; 4] = ["cnn", "cnn-bin", "sap", "bnn-pgd"];

/// One target's accuracy on the gates' examples.
#[derive(Debug)]
pub struct GateTransfer {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// The target (one of [`TARGETS`]).
    pub target: &'static str,
}

fn job(ctx: &PlanContext<'_>, source: &str, run: usize, eps: f64) -> Result<TransferJob> {
    Ok(TransferJob {
        version: RESULTS_VERSION,
        source: ctx.train_job(source, run)?,
        targets: TARGETS
            .iter()
            .filter(|t| available(t))
            .map(|t| ctx.train_job(t, run))
            .collect::<Result<_>>()?,
        eps,
        test_size: ctx.profile.fgsm_test,
        shuffled_targets: Vec::new(),
    })
}

impl Experiment for GateTransfer {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in SOURCES.iter().chain(&TARGETS) {
                jobs.trains.push(ctx.train_job(m, run)?);
            }
            for source in SOURCES {
                for &eps in &ctx.profile.fgsm_eps {
                    jobs.add(job(ctx, source, run, eps)?);
                }
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let grid = ctx.profile.fgsm_eps.clone();
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = write!(
            md,
            "Accuracy (%) of {} on FGSM examples crafted on each source (white box on the source, black box on {}):\n\n| source |",
            self.target, self.target
        );
        eps_columns(md, &grid);
        let mut series = Vec::new();
        for (k, source) in SOURCES.iter().enumerate() {
            let _ = write!(md, "| {source} |");
            let mut pts = Vec::new();
            let mut json = Vec::new();
            for &e in &grid {
                let mut vals = Vec::new();
                for run in 0..ctx.profile.runs {
                    let found = ctx.results.get(&job(&plan, source, run, e)?).and_then(|r| {
                        r.accuracy
                            .iter()
                            .find(|(t, _)| t == self.target)
                            .map(|(_, a)| 100.0 * a)
                    });
                    vals.extend(found);
                }
                match summary(&vals) {
                    Some(sm) => {
                        let _ = write!(md, " {} |", fmt_summary(&sm));
                        pts.push((e, sm.mean, sm.std));
                        json.push(serde_json::json!({"eps": e, "summary": sm, "runs": vals}));
                    }
                    None => {
                        let _ = write!(md, " – |");
                    }
                }
            }
            let _ = writeln!(md);
            series.push(Series {
                label: format!("crafted on {source}"),
                points: pts,
                dashed: false,
                color: k,
            });
            s.json
                .insert((*source).into(), serde_json::Value::Array(json));
        }
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (figure only).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Line {
                title: format!(
                    "{}: {} on FGSM examples of SGBN and its gates",
                    self.info.id, self.target
                ),
                x_label: "ε".into(),
                y_label: "accuracy (%)".into(),
                y_max: 100.0,
                series,
            },
        ));
        Ok(s)
    }
}
