//! Training and testing accuracy of the binarized networks beside Tables
//! 3.4–3.6 (§3.2.4): the building block of `table3.4`, `table3.5`,
//! `table3.6`.

use std::fmt::Write;

use super::chapter3::{CH3_FILE, Ch3Net, Ch3Thesis, accuracies, cell};
use crate::{
    Cell, Experiment, ExperimentInfo, Jobs, PlanContext, ReportContext, Result, Section, Split,
    summary, verdict,
};

/// One of Tables 3.4–3.6.
#[derive(Debug)]
pub struct BinarizedTable {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// The thesis's table name in `data/thesis/ch3.json` (`table3.4`).
    pub table: &'static str,
    /// Its columns: DBN, STE, REINFORCE.
    pub nets: &'static [Ch3Net],
}

impl Experiment for BinarizedTable {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.ch3_runs {
            for net in self.nets {
                jobs.trains.push(net.train_job(ctx, run)?);
                for split in [Split::Train, Split::Test] {
                    jobs.add(net.accuracy(ctx, run, split)?);
                }
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let thesis: Ch3Thesis = ctx.thesis(CH3_FILE)?;
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = write!(md, "Clean accuracy (%), ours / thesis:\n\n| data |");
        for net in self.nets {
            let _ = write!(md, " {} |", net.label());
        }
        let _ = writeln!(md, "\n|---|{}", "---|".repeat(self.nets.len()));
        let mut cells = Vec::new();
        let mut cmp = String::new();
        for (split, name) in [(Split::Train, "Training"), (Split::Test, "Testing")] {
            let _ = write!(md, "| {name} |");
            for net in self.nets {
                let ours = accuracies(ctx, net, split)?;
                let row = thesis
                    .tables
                    .iter()
                    .find(|t| t.table == self.table && t.model == net.id());
                let t = row.map(|r| match split {
                    Split::Train => r.train,
                    Split::Test => r.test,
                });
                let _ = write!(
                    md,
                    " {} / {} |",
                    cell(&ours),
                    t.map_or("–".into(), |t| format!("{:.1} ± {:.2}", t.0, t.1))
                );
                if let (Some(sm), Some(t)) = (summary(&ours), t) {
                    let c = Cell {
                        ours: sm,
                        thesis: t,
                    };
                    let _ = writeln!(
                        cmp,
                        "| {} | {name} | {:+.2} | {} |",
                        net.label(),
                        sm.mean - t.0,
                        if c.within() { "yes" } else { "no" }
                    );
                    cells.push(c);
                }
                s.json.insert(
                    format!("{}-{}", net.id(), name.to_ascii_lowercase()),
                    serde_json::json!({"ours": ours, "thesis": t}),
                );
            }
            let _ = writeln!(md);
        }
        if !cmp.is_empty() {
            let _ = writeln!(
                md,
                "\n| network | data | ours − thesis | within 2σ |\n|---|---|---|---|\n{cmp}"
            );
        }
        let _ = writeln!(
            md,
            "\nSource: {}. Training accuracy is measured after training, in evaluation mode, on the images the run trained on.\n\n**Verdict:** {}.\n",
            thesis.source,
            verdict(&cells, None)
        );
        Ok(s)
    }
}
