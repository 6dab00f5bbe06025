//! Histograms of the true class's confidence (softmax probability, 0–100 %)
//! on white-box FGSM examples, per network and ε: the building block of
//! `fig3.3`, `fig3.6`, `fig3.7`, `fig3.11` and `figA.1`–`figA.6`. Every run's
//! examples are pooled; the shares of a panel sum to 1.

use std::fmt::Write;

use sgbn_metrics::Histogram;

use super::chapter3::Ch3Net;
use crate::{
    BarPanel, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result,
    Section, eps_columns,
};

/// Which budgets the histograms show.
#[derive(Debug, Clone, Copy)]
pub enum ConfidenceEps {
    /// The budgets its caption names.
    Caption(&'static [f64]),
    /// The profile's appendix budgets ([`crate::Profile::ch3_confidence_eps`]).
    Profile,
}

/// Confidence histograms of some networks.
#[derive(Debug)]
pub struct ConfidenceGrid {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// The networks, one row of panels each.
    pub nets: &'static [Ch3Net],
    /// The budgets, one column each.
    pub eps: ConfidenceEps,
}

impl ConfidenceGrid {
    fn eps(&self, ctx: &PlanContext<'_>) -> Vec<f64> {
        match self.eps {
            ConfidenceEps::Caption(e) => e.to_vec(),
            ConfidenceEps::Profile => ctx.profile.ch3_confidence_eps.clone(),
        }
    }
}

/// The runs' histograms of one network at one ε, pooled; `None` when no
/// run has finished.
fn pooled(ctx: &ReportContext<'_>, net: &Ch3Net, eps: f64) -> Result<Option<Histogram>> {
    let plan = ctx.plan();
    let mut total: Option<Histogram> = None;
    for run in 0..ctx.profile.ch3_runs {
        let Some(h) = ctx
            .results
            .get(&net.fgsm(&plan, run, eps)?)
            .and_then(|r| r.confidence)
        else {
            continue;
        };
        match total.as_mut() {
            Some(t) if t.counts.len() == h.counts.len() => {
                for (a, b) in t.counts.iter_mut().zip(&h.counts) {
                    *a += b;
                }
            }
            Some(_) => {}
            None => total = Some(h),
        }
    }
    Ok(total)
}

impl Experiment for ConfidenceGrid {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.ch3_runs {
            for net in self.nets {
                jobs.trains.push(net.train_job(ctx, run)?);
                for eps in self.eps(ctx) {
                    jobs.add(net.fgsm(ctx, run, eps)?);
                }
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let eps = self.eps(&ctx.plan());
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Share of FGSM examples whose true class keeps a confidence below 10 % / at least 90 % (all runs pooled):\n"
        );
        let _ = write!(md, "| network |");
        eps_columns(md, &eps);
        let mut panels = Vec::new();
        for net in self.nets {
            let _ = write!(md, "| {} |", net.label());
            let mut json = Vec::new();
            for &e in &eps {
                let h = pooled(ctx, net, e)?;
                let shares = h.as_ref().map(|h| {
                    let n = h.total().max(1) as f64;
                    h.counts.iter().map(|c| *c as f64 / n).collect::<Vec<_>>()
                });
                match &shares {
                    Some(sh) => {
                        let (low, high) = (sh[0], sh[sh.len() - 1]);
                        let _ = write!(md, " {:.0} % / {:.0} % |", 100.0 * low, 100.0 * high);
                        json.push(serde_json::json!({"eps": e, "histogram": h}));
                    }
                    None => {
                        let _ = write!(md, " – |");
                    }
                }
                let bins = h
                    .as_ref()
                    .map_or(super::chapter3::CONFIDENCE_BINS, |h| h.counts.len());
                panels.push(BarPanel {
                    title: format!("{}, ε = {e}", net.label()),
                    edges: (0..=bins).map(|i| 100.0 * i as f64 / bins as f64).collect(),
                    shares,
                });
            }
            let _ = writeln!(md);
            s.json.insert(net.id(), serde_json::Value::Array(json));
        }
        let name = format!("{}.svg", self.info.id);
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (the thesis's histograms are images; compare the shapes).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Bars {
                title: format!(
                    "{}: confidence in the true class on FGSM examples",
                    self.info.id
                ),
                x_label: "confidence (%)".into(),
                cols: eps.len(),
                panels,
            },
        ));
        Ok(s)
    }
}
