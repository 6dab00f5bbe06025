//! Black-box FGSM transfer: examples crafted on each source model, judged by
//! each target model; the building block of `fig4.6` and `fig4.15`, beside
//! Table 4.8 where the thesis gives numbers.

use std::{collections::BTreeMap, fmt::Write};

use serde::Deserialize;

use crate::{
    Cell, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, RESULTS_VERSION, ReportContext,
    Result, SHUFFLED_SUFFIX, Section, TransferJob, available, fmt_summary, summary, verdict,
};

/// The budget of the transfer experiments (§4.4).
pub const TRANSFER_EPS: f64 = 0.3;

/// The file of Table 4.8 under `data/thesis/`.
pub const TABLE_4_8: &str = "table4_8.json";

/// One target row of Table 4.8.
#[derive(Debug, Deserialize)]
pub struct ThesisTransferRow {
    /// The target model's name in sgbn.
    pub target: String,
    /// Mean accuracy (%) per source.
    pub mean: Vec<f64>,
    /// Std (%) per source.
    pub std: Vec<f64>,
}

/// Table 4.8, as `data/thesis/table4_8.json` holds it.
#[derive(Debug, Deserialize)]
pub struct ThesisTransfer {
    /// Where in the thesis.
    pub source: String,
    /// The source models of the columns.
    pub sources: Vec<String>,
    /// The target rows.
    pub rows: Vec<ThesisTransferRow>,
}

/// The file of the transfer accuracies the text states beside its figures,
/// under `data/thesis/`.
pub const STATED_TRANSFER: &str = "transfer_stated.json";

/// One transfer accuracy stated in the text (no std given).
#[derive(Debug, Deserialize)]
pub struct StatedTransferPoint {
    /// The experiment whose figure the text describes.
    pub experiment: String,
    /// The model the examples are crafted on.
    pub from: String,
    /// The model that judges them.
    pub to: String,
    /// Accuracy (%).
    pub accuracy: f64,
    /// The sentence it comes from.
    pub source: String,
}

/// The range of the accuracies on one target over every source, stated in
/// the text.
#[derive(Debug, Deserialize)]
pub struct StatedTransferRange {
    /// The experiment whose figure the text describes.
    pub experiment: String,
    /// The model that judges the examples.
    pub target: String,
    /// Lowest accuracy (%).
    pub min: f64,
    /// Highest accuracy (%).
    pub max: f64,
    /// The sentence it comes from.
    pub source: String,
}

/// The average over every target of one source's accuracies, stated in the
/// text.
#[derive(Debug, Deserialize)]
pub struct StatedSourceAverage {
    /// The experiment whose figure the text describes.
    pub experiment: String,
    /// The model the examples are crafted on.
    pub from: String,
    /// Average accuracy (%).
    pub accuracy: f64,
    /// The sentence it comes from.
    pub source: String,
}

/// The transfer accuracies stated in the text.
#[derive(Debug, Deserialize)]
pub struct StatedTransfer {
    /// Where in the thesis.
    pub source: String,
    /// The numbers.
    pub points: Vec<StatedTransferPoint>,
    /// Ranges over the sources, by target.
    #[serde(default)]
    pub ranges: Vec<StatedTransferRange>,
    /// Averages over the targets, by source.
    #[serde(default)]
    pub source_averages: Vec<StatedSourceAverage>,
}

/// FGSM (ε = 0.3) examples of each source on each target.
#[derive(Debug)]
pub struct TransferMatrix {
    /// Its names, place and every model it trains.
    pub info: ExperimentInfo,
    /// The models the examples are crafted on (rows).
    pub sources: &'static [&'static str],
    /// The models that judge them (columns).
    pub targets: &'static [&'static str],
}

/// Whether a target name can be evaluated: a model sgbn builds, or one
/// with [`SHUFFLED_SUFFIX`] (that model with its gate masks shuffled).
pub fn target_available(name: &str) -> bool {
    available(name.strip_suffix(SHUFFLED_SUFFIX).unwrap_or(name))
}

impl TransferMatrix {
    /// The transfer jobs of one run.
    fn transfers(&self, ctx: &PlanContext<'_>, run: usize) -> Result<Vec<TransferJob>> {
        let plain = |m: &&&str| !m.ends_with(SHUFFLED_SUFFIX) && available(m);
        let targets = self
            .targets
            .iter()
            .filter(plain)
            .map(|m| ctx.train_job(m, run))
            .collect::<Result<Vec<_>>>()?;
        let shuffled_targets = self
            .targets
            .iter()
            .filter_map(|m| m.strip_suffix(SHUFFLED_SUFFIX))
            .filter(|m| available(m))
            .map(|m| ctx.train_job(m, run))
            .collect::<Result<Vec<_>>>()?;
        self.sources
            .iter()
            .filter(|m| available(m))
            .map(|m| {
                Ok(TransferJob {
                    version: RESULTS_VERSION,
                    source: ctx.train_job(m, run)?,
                    targets: targets.clone(),
                    eps: TRANSFER_EPS,
                    test_size: ctx.profile.fgsm_test,
                    shuffled_targets: shuffled_targets.clone(),
                })
            })
            .collect()
    }
}

impl Experiment for TransferMatrix {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in self.info.models.iter().filter(|m| available(m)) {
                jobs.trains.push(ctx.train_job(m, run)?);
            }
            jobs.extend(self.transfers(ctx, run)?);
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let thesis: ThesisTransfer = ctx.thesis(TABLE_4_8)?;
        let stated: StatedTransfer = ctx.thesis(STATED_TRANSFER)?;
        let srcs: Vec<&str> = self
            .sources
            .iter()
            .copied()
            .filter(|m| available(m))
            .collect();
        let tgts: Vec<&str> = self
            .targets
            .iter()
            .copied()
            .filter(|m| target_available(m))
            .collect();
        let mut acc: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        for run in 0..ctx.profile.runs {
            for job in self.transfers(&plan, run)? {
                if let Some(r) = ctx.results.get(&job) {
                    for (t, a) in r.accuracy {
                        acc.entry((job.source.model.clone(), t))
                            .or_default()
                            .push(100.0 * a);
                    }
                }
            }
        }
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "FGSM, ε = {TRANSFER_EPS}, crafted on the row's model, evaluated on the column's (the diagonal is white box):\n"
        );
        let _ = write!(md, "| source \\ target |");
        for t in &tgts {
            let _ = write!(md, " {t} |");
        }
        let _ = writeln!(md, "\n|---|{}", "---|".repeat(tgts.len()));
        let mut grid = Vec::new();
        let mut cells = Vec::new();
        let mut cmp = String::new();
        for src in &srcs {
            let _ = write!(md, "| {src} |");
            let mut row = Vec::new();
            for t in &tgts {
                match acc
                    .get(&(src.to_string(), t.to_string()))
                    .and_then(|v| summary(v))
                {
                    Some(sm) => {
                        let _ = write!(md, " {} |", fmt_summary(&sm));
                        row.push(Some(sm.mean));
                        if let (Some(ci), Some(tr)) = (
                            thesis.sources.iter().position(|x| x == src),
                            thesis.rows.iter().find(|r| r.target == *t),
                        ) {
                            let c = Cell {
                                ours: sm,
                                thesis: (tr.mean[ci], tr.std[ci]),
                            };
                            let _ = writeln!(
                                cmp,
                                "| {src} | {t} | {} | {:.1} ± {:.1} | {:+.1} | {} |",
                                fmt_summary(&c.ours),
                                tr.mean[ci],
                                tr.std[ci],
                                c.ours.mean - tr.mean[ci],
                                if c.within() { "yes" } else { "no" }
                            );
                            cells.push(c);
                        }
                    }
                    None => {
                        let _ = write!(md, " – |");
                        row.push(None);
                    }
                }
            }
            let _ = writeln!(md);
            grid.push(row);
        }
        s.json.insert(
            "matrix".into(),
            serde_json::json!({"sources": srcs, "targets": tgts, "mean": grid}),
        );
        if !cmp.is_empty() {
            let _ = writeln!(
                md,
                "\nBeside the thesis ({}):\n\n| source | target | ours | thesis | difference | within 2σ |\n|---|---|---|---|---|---|\n{cmp}",
                thesis.source
            );
        }
        // Numbers the text states without a std: beside ours, no 2σ verdict.
        let mut told = String::new();
        for p in stated
            .points
            .iter()
            .filter(|p| p.experiment == self.info.id)
        {
            let ours = acc
                .get(&(p.from.clone(), p.to.clone()))
                .and_then(|v| summary(v));
            let _ = writeln!(
                told,
                "| {} | {} | {} | {:.1} | {} |",
                p.from,
                p.to,
                ours.as_ref().map_or("–".into(), fmt_summary),
                p.accuracy,
                ours.map_or("–".into(), |o| format!("{:+.1}", o.mean - p.accuracy)),
            );
        }
        if !told.is_empty() {
            let _ = writeln!(
                md,
                "\nBeside the numbers the text states ({}; no std given, so no 2σ verdict):\n\n| source | target | ours | thesis | difference |\n|---|---|---|---|---|\n{told}",
                stated.source
            );
        }
        stated_summaries(md, &stated, self.info.id, &acc, &srcs, &tgts);
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** {}.\n",
            self.info.id,
            verdict(&cells, None)
        );
        s.figures.push((
            name,
            Figure::Heat {
                title: format!("{}: transfer accuracy (%)", self.info.id),
                rows: srcs.iter().map(|s| s.to_string()).collect(),
                cols: tgts.iter().map(|s| s.to_string()).collect(),
                values: grid,
                row_label: "source".into(),
                col_label: "target".into(),
            },
        ));
        Ok(s)
    }
}

/// The ranges by target and averages by source that the text states for
/// `id`, beside ours from the run means `acc` (no std given: no verdict).
fn stated_summaries(
    md: &mut String,
    stated: &StatedTransfer,
    id: &str,
    acc: &BTreeMap<(String, String), Vec<f64>>,
    srcs: &[&str],
    tgts: &[&str],
) {
    let mean = |src: &str, t: &str| {
        acc.get(&(src.to_string(), t.to_string()))
            .and_then(|v| summary(v))
            .map(|s| s.mean)
    };
    let mut lines = String::new();
    for r in stated.ranges.iter().filter(|r| r.experiment == id) {
        let ours: Option<Vec<f64>> = srcs.iter().map(|s| mean(s, &r.target)).collect();
        let ours = ours.filter(|v| !v.is_empty()).map_or("–".to_string(), |v| {
            let (lo, hi) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(*x), b.max(*x))
                });
            format!("{lo:.1}–{hi:.1}")
        });
        let _ = writeln!(
            lines,
            "| range on target {} over the sources | {ours} | {:.1}–{:.1} |",
            r.target, r.min, r.max
        );
    }
    for a in stated.source_averages.iter().filter(|a| a.experiment == id) {
        let ours: Option<Vec<f64>> = tgts.iter().map(|t| mean(&a.from, t)).collect();
        let ours = ours.filter(|v| !v.is_empty()).map_or("–".to_string(), |v| {
            format!("{:.1}", v.iter().sum::<f64>() / v.len() as f64)
        });
        let _ = writeln!(
            lines,
            "| average over the targets of source {} | {ours} | {:.1} |",
            a.from, a.accuracy
        );
    }
    if !lines.is_empty() {
        let source = stated
            .ranges
            .iter()
            .find(|r| r.experiment == id)
            .map(|r| r.source.as_str())
            .or_else(|| {
                stated
                    .source_averages
                    .iter()
                    .find(|a| a.experiment == id)
                    .map(|a| a.source.as_str())
            })
            .unwrap_or("");
        let _ = writeln!(
            md,
            "\nBeside the ranges and averages the text states ({source}; over the run means, no std given, so no 2σ verdict):\n\n| summary | ours | thesis |\n|---|---|---|\n{lines}"
        );
    }
}
