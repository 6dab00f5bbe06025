//! `fig4.11`: the ℓ1 distortion (mean absolute pixel change, eq. 2.31) of
//! white-box FGSM examples against ε per model (Fig. 4.11, §4.5). It reads
//! the distortion `fig4.3`'s evaluations record: no computation of its own.
//! The thesis states no number for it (the figure, and §4.5's reading of it).

use std::fmt::Write;

use crate::{
    AttackSpec, Cell, EvalJob, Experiment, ExperimentInfo, Figure, Jobs, PlanContext,
    ReportContext, Result, Section, Series, eps_columns, eps_eq, summary,
};

/// The experiment.
pub static FIG4_11: Fig4_11 = Fig4_11;

/// The distortion figure.
#[derive(Debug)]
pub struct Fig4_11;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.11",
    title: "ℓ1 distortion of white-box FGSM examples against ε",
    reference: "Fig. 4.11, §4.5, eq. 2.31",
    models: &["sgbn", "bnn-pgd", "sap", "cnn-bin", "cnn"],
    default_set: true,
};

fn eval(ctx: &PlanContext<'_>, model: &str, run: usize, eps: f64) -> Result<EvalJob> {
    // The same job as fig4.3's (same key): FGSM on the profile's images.
    Ok(EvalJob::new(
        &ctx.train_job(model, run)?,
        AttackSpec::fgsm(eps),
        ctx.profile.fgsm_test,
        1,
    ))
}

impl Experiment for Fig4_11 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for run in 0..ctx.profile.runs {
            for m in INFO.built_models() {
                jobs.trains.push(ctx.train_job(m, run)?);
                for &eps in &ctx.profile.fgsm_eps {
                    jobs.add(eval(ctx, m, run, eps)?);
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
        let _ = write!(md, "Mean ℓ1 distortion per pixel (× 100):\n\n| model |");
        eps_columns(md, &grid);
        let mut series = Vec::new();
        let mut at_top = Vec::new();
        let top = grid.iter().copied().fold(0.0, f64::max);
        for (k, m) in INFO.built_models().enumerate() {
            let _ = write!(md, "| {m} |");
            let mut pts = Vec::new();
            let mut json = Vec::new();
            for &e in &grid {
                let mut vals = Vec::new();
                for run in 0..ctx.profile.runs {
                    if let Some(c) = ctx
                        .results
                        .get(&eval(&plan, m, run, e)?)
                        .and_then(|r| r.cost)
                    {
                        vals.push(100.0 * c.mean_l1);
                    }
                }
                match summary(&vals) {
                    Some(sm) => {
                        if sm.n > 1 {
                            let _ = write!(md, " {:.2} ± {:.2} ({}) |", sm.mean, sm.std, sm.n);
                        } else {
                            let _ = write!(md, " {:.2} (1) |", sm.mean);
                        }
                        pts.push((e, sm.mean / 100.0, sm.std / 100.0));
                        json.push(serde_json::json!({"eps": e, "l1_x100": sm, "runs": vals}));
                        if eps_eq(e, top) {
                            at_top.push((m, sm));
                        }
                    }
                    None => {
                        let _ = write!(md, " – |");
                    }
                }
            }
            let _ = writeln!(md);
            series.push(Series {
                label: m.to_string(),
                points: pts,
                dashed: false,
                color: k,
            });
            s.json.insert(m.to_string(), serde_json::Value::Array(json));
        }
        let _ = writeln!(
            md,
            "\nThe thesis's claims (§4.5), on our numbers at ε = {top}:\n"
        );
        let all = at_top.len() == INFO.built_models().count();
        let get = |name: &str| at_top.iter().find(|(m, _)| *m == name).map(|x| x.1);
        let mut held = Vec::new();
        let mut claim = |text: &str, result: Option<(bool, String)>| {
            let line = match result {
                Some((h, what)) => {
                    held.push(h);
                    format!(
                        "{} — {what}",
                        if h { "**holds**" } else { "**does not hold**" }
                    )
                }
                None => "not computed".into(),
            };
            let _ = writeln!(md, "- {text}: {line}");
        };
        let mut sorted = at_top.clone();
        sorted.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
        let order = sorted
            .iter()
            .map(|(m, sm)| format!("{m} {:.2}", sm.mean))
            .collect::<Vec<_>>()
            .join(" > ");
        claim(
            "the distortion of SGBN is the highest",
            all.then(|| (sorted[0].0 == "sgbn", order.clone())),
        );
        claim(
            "SAP and BNN with PGD have the lowest (their distortion stays low as ε grows)",
            all.then(|| {
                let low: Vec<&str> = sorted.iter().rev().take(2).map(|x| x.0).collect();
                (
                    low.contains(&"sap") && low.contains(&"bnn-pgd"),
                    order.clone(),
                )
            }),
        );
        claim(
            "CNN and CNN-BIN do not differ significantly (needs 2 runs or more)",
            get("cnn")
                .zip(get("cnn-bin"))
                .filter(|(a, b)| a.n > 1 && b.n > 1)
                .map(|(a, b)| {
                    let same = Cell {
                        ours: a,
                        thesis: (b.mean, b.std),
                    }
                    .within();
                    (
                        same,
                        format!(
                            "CNN {:.2} ± {:.2}, CNN-BIN {:.2} ± {:.2} (2σ rule)",
                            a.mean, a.std, b.mean, b.std
                        ),
                    )
                }),
        );
        let k = held.iter().filter(|h| **h).count();
        let name = "fig4.11.svg";
        let _ = writeln!(
            md,
            "\n![fig4.11](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (a figure); {k} of {} of the thesis's claims hold.\n",
            held.len()
        );
        s.figures.push((
            name.into(),
            Figure::Line {
                title: "fig4.11: ℓ1 distortion of FGSM examples".into(),
                x_label: "ε".into(),
                y_label: "mean |δ| per pixel".into(),
                y_max: if top > 0.0 { top } else { 1.0 },
                series,
            },
        ));
        Ok(s)
    }
}
