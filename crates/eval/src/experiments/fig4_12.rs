//! `fig4.12`: t-SNE of the clean test images and of FGSM (ε 0.3) examples
//! crafted on SGBN and on BNN with PGD (Fig. 4.12, §4.5), with how well each
//! embedding keeps the digits apart (5-nearest-neighbour label agreement).
//! The thesis states no number for it (the figure, and §4.5's reading of it).

use std::fmt::Write;

use crate::{
    Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, ScatterPanel,
    Section, TsneJob, available,
};

/// The experiment.
pub static FIG4_12: Fig4_12 = Fig4_12;

/// The t-SNE figure.
#[derive(Debug)]
pub struct Fig4_12;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.12",
    title: "t-SNE of clean test images and of FGSM examples crafted on SGBN and BNN with PGD",
    reference: "Fig. 4.12, §4.5",
    models: &["sgbn", "bnn-pgd"],
    default_set: true,
};

/// FGSM budget of the examples.
const EPS: f64 = 0.3;

/// Panels: `None` is the clean images.
const PANELS: [Option<&str>; 3] = [None, Some("sgbn"), Some("bnn-pgd")];

fn job(ctx: &PlanContext<'_>, source: Option<&str>) -> Result<TsneJob> {
    let source = source.map(|m| ctx.train_job(m, 0)).transpose()?;
    Ok(TsneJob::new(
        source.as_ref(),
        EPS,
        ctx.profile.tsne_test,
        ctx.profile.tsne_epochs,
        0,
    ))
}

impl Experiment for Fig4_12 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        if !cfg!(feature = "tsne") {
            return Ok(jobs);
        }
        for p in PANELS {
            if let Some(m) = p {
                if !available(m) {
                    continue;
                }
                jobs.trains.push(ctx.train_job(m, 0)?);
            }
            jobs.add(job(ctx, p)?);
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let mut s = Section::default();
        let md = &mut s.markdown;
        if !cfg!(feature = "tsne") {
            let _ = writeln!(
                md,
                "Not computed: this build of sgbn-eval has no `tsne` feature (`cargo xtask` turns it on).\n\n**Verdict:** not computed.\n"
            );
            return Ok(s);
        }
        let _ = writeln!(
            md,
            "2-D t-SNE (Barnes–Hut, perplexity 30, {} epochs, seeded) of the pixels of the first {} test images, run 0's models, FGSM ε = {EPS}; points coloured by true digit. \"Agreement\": the share of points whose 5 nearest neighbours in the embedding mostly share their digit.\n\n| images | agreement |\n|---|---|",
            ctx.profile.tsne_epochs, ctx.profile.tsne_test
        );
        let mut panels = Vec::new();
        let mut agreement = Vec::new();
        for p in PANELS {
            let name = p.map_or("clean".to_string(), |m| format!("crafted on {m}"));
            let r = ctx.results.get(&job(&plan, p)?);
            let _ = writeln!(
                md,
                "| {name} | {} |",
                r.as_ref()
                    .map_or("–".into(), |r| format!("{:.1} %", 100.0 * r.agreement))
            );
            agreement.push(r.as_ref().map(|r| r.agreement));
            if let Some(r) = &r {
                s.json
                    .insert(name.clone(), serde_json::json!({"agreement": r.agreement}));
                panels.push(ScatterPanel {
                    title: name,
                    points: r
                        .embedding
                        .iter()
                        .zip(&r.labels)
                        .map(|(e, l)| (e[0], e[1], *l))
                        .collect(),
                });
            }
        }
        let claim = match (agreement[1], agreement[2]) {
            (Some(sgbn), Some(bnn)) => format!(
                "**{}** — agreement: SGBN's examples {:.1} %, BNN with PGD's {:.1} %",
                if sgbn > bnn { "holds" } else { "does not hold" },
                100.0 * sgbn,
                100.0 * bnn
            ),
            _ => "not computed".into(),
        };
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§4.5): the digits of SGBN's examples stay clustered, those of BNN with PGD's do not (checked: higher agreement for SGBN's): {claim}.\n\n![fig4.12](figures/fig4.12.svg)\n\n**Verdict:** no thesis numbers to compare with (figure only).\n"
        );
        s.figures.push((
            "fig4.12.svg".into(),
            Figure::Scatter {
                title: "fig4.12: t-SNE of test images".into(),
                panels,
            },
        ));
        Ok(s)
    }
}
