//! White-box FGSM accuracy against ε and the train − test gap of some
//! chapter-3 networks, with the thesis's stated claims checked on our
//! numbers: the building block of `fig3.2`, `fig3.4`, `fig3.5` (the 1-conv
//! CNN with dropout / L1 / L2) and `fig3.8`–`fig3.10` (the binarized
//! networks).

use std::fmt::Write;

use super::chapter3::{
    CH3_FILE, Ch3Net, Ch3Thesis, cell, fgsm_accuracies, fgsm_bpda_accuracies, fgsm_max_linf,
    generalization_table,
};
use crate::{
    Cell, Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, Section,
    Series, Split, eps_columns, eps_eq, summary, verdict,
};

/// Mean FGSM accuracy (%) of each network (in the experiment's order) at
/// each ε of the profile's grid; `None` where not computed.
#[derive(Debug)]
pub struct CurveMeans {
    /// The budgets.
    pub eps: Vec<f64>,
    /// `means[net][eps]`.
    pub means: Vec<Vec<Option<f64>>>,
}

impl CurveMeans {
    /// The mean of network `net` at `eps`.
    pub fn at(&self, net: usize, eps: f64) -> Option<f64> {
        let i = self.eps.iter().position(|e| eps_eq(*e, eps))?;
        self.means.get(net)?.get(i).copied().flatten()
    }
}

/// A claim of the thesis's text, checked on our numbers.
#[derive(Debug)]
pub struct Claim {
    /// The claim, with its place in the thesis.
    pub text: &'static str,
    /// Our evidence: `Some((holds, what we measured))`, `None` when the
    /// numbers it needs are missing.
    pub check: fn(&CurveMeans) -> Option<(bool, String)>,
}

/// FGSM accuracy against ε and the generalization gap of some networks.
#[derive(Debug)]
pub struct Ch3Curve {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// The networks, in legend order.
    pub nets: &'static [Ch3Net],
    /// The thesis's claims about the figure.
    pub claims: &'static [Claim],
}

impl Experiment for Ch3Curve {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.ch3_runs {
            for net in self.nets {
                jobs.trains.push(net.train_job(ctx, run)?);
                for &eps in &ctx.profile.ch3_eps {
                    jobs.add(net.fgsm(ctx, run, eps)?);
                    if net.is_binarized() && eps > 0.0 {
                        jobs.add(net.fgsm_bpda(ctx, run, eps)?);
                    }
                }
                for split in [Split::Train, Split::Test] {
                    jobs.add(net.accuracy(ctx, run, split)?);
                }
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let thesis: Ch3Thesis = ctx.thesis(CH3_FILE)?;
        let grid = ctx.profile.ch3_eps.clone();
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = write!(md, "FGSM accuracy (%), white box:\n\n| network |");
        eps_columns(md, &grid);
        let mut series = Vec::new();
        let mut means = Vec::new();
        let mut cells = Vec::new();
        let mut stated = String::new();
        for (k, net) in self.nets.iter().enumerate() {
            let _ = write!(md, "| {} |", net.label());
            let mut pts = Vec::new();
            let mut row = Vec::new();
            let mut json = Vec::new();
            for &e in &grid {
                let vals = fgsm_accuracies(ctx, net, e)?;
                let _ = write!(md, " {} |", cell(&vals));
                let sm = summary(&vals);
                row.push(sm.map(|s| s.mean));
                if let Some(sm) = sm {
                    pts.push((e, sm.mean, sm.std));
                    json.push(serde_json::json!({"eps": e, "summary": sm, "runs": vals}));
                    for p in thesis
                        .fgsm
                        .iter()
                        .filter(|p| p.model == net.id() && eps_eq(p.eps, e))
                    {
                        let c = Cell {
                            ours: sm,
                            thesis: p.accuracy,
                        };
                        let _ = writeln!(
                            stated,
                            "| {} | {e} | {} | {:.1} ± {:.1} ({}) | {:+.1} | {} |",
                            net.label(),
                            cell(&vals),
                            p.accuracy.0,
                            p.accuracy.1,
                            p.source,
                            sm.mean - p.accuracy.0,
                            if c.within() { "yes" } else { "no" }
                        );
                        cells.push(c);
                    }
                }
            }
            let _ = writeln!(md);
            means.push(row);
            series.push(Series {
                label: net.label(),
                points: pts,
                dashed: false,
                color: k,
            });
            s.json.insert(net.id(), serde_json::Value::Array(json));
        }
        // Gradient masking: a network whose FGSM examples differ from the
        // clean images in no pixel at any ε > 0 has a zero input gradient.
        let mut masked = Vec::new();
        for net in self.nets {
            let mut linf = Vec::new();
            for &e in grid.iter().filter(|e| **e > 0.0) {
                linf.push(fgsm_max_linf(ctx, net, e)?);
            }
            if !linf.is_empty() && linf.iter().all(|l| *l == Some(0.0)) {
                masked.push(net.label());
            }
        }
        if !masked.is_empty() {
            let _ = writeln!(
                md,
                "\n**Gradient masking:** FGSM changed no pixel of {}'s test images at any ε > 0 (largest ℓ∞ change 0): the input gradient is zero, so the accuracy above is the clean accuracy, not robustness.",
                masked.join(", ")
            );
        }
        let binarized: Vec<&Ch3Net> = self.nets.iter().filter(|n| n.is_binarized()).collect();
        if !binarized.is_empty() {
            let _ = write!(
                md,
                "\nBeyond the thesis: FGSM with BPDA of the binary dense unit (its backward replaced by the identity), which reaches the input where the unit's own gradient does not:\n\n| network |"
            );
            let eps_pos: Vec<f64> = grid.iter().copied().filter(|e| *e > 0.0).collect();
            eps_columns(md, &eps_pos);
            for net in binarized {
                let _ = write!(md, "| {} |", net.label());
                let mut json = Vec::new();
                for &e in &eps_pos {
                    let vals = fgsm_bpda_accuracies(ctx, net, e)?;
                    let _ = write!(md, " {} |", cell(&vals));
                    json.push(serde_json::json!({"eps": e, "runs": vals}));
                }
                let _ = writeln!(md);
                s.json
                    .insert(format!("{}-bpda", net.id()), serde_json::Value::Array(json));
            }
        }
        if !stated.is_empty() {
            let _ = writeln!(
                md,
                "\nBeside the thesis's stated numbers:\n\n| network | ε | ours | thesis | difference | within 2σ |\n|---|---|---|---|---|---|\n{stated}"
            );
        }
        let _ = writeln!(
            md,
            "\nClean accuracy (%) on the training images the run saw and on the test images, and the gap (the thesis's overfitting measure):\n"
        );
        let gaps = generalization_table(ctx, self.nets, md)?;
        s.json.insert("generalization".into(), gaps);
        let curve = CurveMeans {
            eps: grid.clone(),
            means,
        };
        let mut held = Vec::new();
        if !self.claims.is_empty() {
            let _ = writeln!(md, "\nThe thesis's claims, on our numbers:\n");
            for claim in self.claims {
                let line = match (claim.check)(&curve) {
                    Some((holds, what)) => {
                        held.push(holds);
                        format!(
                            "{} — {}",
                            if holds {
                                "**holds**"
                            } else {
                                "**does not hold**"
                            },
                            what
                        )
                    }
                    None => "not computed".into(),
                };
                let _ = writeln!(md, "- {}: {line}", claim.text);
            }
        }
        let name = format!("{}.svg", self.info.id);
        let mut v = verdict(&cells, None);
        if !held.is_empty() {
            let k = held.iter().filter(|h| **h).count();
            let _ = write!(v, "; {k} of {} of the thesis's claims hold", held.len());
        }
        if !masked.is_empty() {
            let _ = write!(v, "; gradient masking: {}", masked.join(", "));
        }
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** {v}.\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Line {
                title: format!("{}: FGSM, white box", self.info.id),
                x_label: "ε".into(),
                y_label: "accuracy (%)".into(),
                y_max: 100.0,
                series,
            },
        ));
        Ok(s)
    }
}

/// The network whose mean at `eps` is highest (`max`) or lowest, among
/// those computed, with its value.
pub fn extreme(c: &CurveMeans, eps: f64, max: bool) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for net in 0..c.means.len() {
        let v = c.at(net, eps)?;
        if best.is_none_or(|(_, b)| if max { v > b } else { v < b }) {
            best = Some((net, v));
        }
    }
    best
}
