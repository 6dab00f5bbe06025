//! FGSM perturbations and perturbed images of a few test digits, drawn
//! as a PNG grid with a measure of how spread the perturbation is: the
//! building block of `fig3.12` (ε 0.3) and `fig3.13` (ε 0.9).

use std::fmt::Write;

use super::chapter3::{Ch3Net, Regularizer};
use crate::{
    AttackSpec, Example, ExamplesJob, Experiment, ExperimentInfo, Figure, GrayImage, Jobs,
    PixelScale, PlanContext, ReportContext, Result, Section,
};

/// The networks of Figs. 3.12 and 3.13: the CNN without regularization and
/// with L1 λ = 1e-2.
pub const NETS: [Ch3Net; 2] = [
    Ch3Net::Cnn(Regularizer::None),
    Ch3Net::Cnn(Regularizer::L1(1e-2)),
];

/// The test images drawn: the first 1, 0 and 4 of the MNIST test set
/// (indices 2, 3 and 4), the digits of Fig. 3.13's caption.
pub const INDICES: [usize; 3] = [2, 3, 4];

/// Perturbations and perturbed images of [`NETS`] at one ε.
#[derive(Debug)]
pub struct FgsmImages {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// The FGSM budget.
    pub eps: f64,
}

impl FgsmImages {
    fn job(&self, ctx: &PlanContext<'_>, net: &Ch3Net) -> Result<ExamplesJob> {
        Ok(ExamplesJob::new(
            &net.train_job(ctx, 0)?,
            AttackSpec::fgsm(self.eps),
            &INDICES,
        ))
    }
}

/// The clean image, the perturbation (signed) and the perturbed image of
/// an example of images shaped `[C, H, W]` (the first channel).
pub fn panels(example: &Example, shape: [usize; 3]) -> [GrayImage; 3] {
    let [_, h, w] = shape;
    let first = |v: Vec<f32>| v.into_iter().take(h * w).collect::<Vec<_>>();
    let image = |caption: String, pixels: Vec<f32>, scale| GrayImage {
        caption,
        width: w,
        height: h,
        pixels: first(pixels),
        scale,
    };
    [
        image(
            format!("clean, image {}", example.index),
            example.clean.clone(),
            PixelScale::Unit,
        ),
        image(
            format!("perturbation, image {}", example.index),
            example.perturbation(),
            PixelScale::Signed,
        ),
        image(
            format!("perturbed, image {}", example.index),
            example.adversarial.clone(),
            PixelScale::Unit,
        ),
    ]
}

/// The mean distance (pixels) of the perturbation's mass from the image
/// centre, `Σ|δ|·r / Σ|δ|`, and the share of pixels it changes.
pub fn spread(example: &Example, width: usize) -> (f64, f64) {
    let delta = example.perturbation();
    let height = delta.len() / width.max(1);
    let (cx, cy) = ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0);
    let (mut mass, mut moment, mut changed) = (0.0, 0.0, 0usize);
    for (i, d) in delta.iter().enumerate() {
        let a = f64::from(d.abs());
        if a > 0.0 {
            changed += 1;
        }
        let (x, y) = ((i % width) as f64, (i / width) as f64);
        mass += a;
        moment += a * ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
    }
    (
        if mass > 0.0 { moment / mass } else { 0.0 },
        changed as f64 / delta.len().max(1) as f64,
    )
}

impl Experiment for FgsmImages {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        for net in &NETS {
            jobs.trains.push(net.train_job(ctx, 0)?);
            jobs.add(self.job(ctx, net)?);
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "FGSM at ε = {} on test images {INDICES:?} (run 0). Rows of the figure, top to bottom: for each network, the perturbation (red +, blue −, white 0) and the perturbed image.\n\n| network | image (label) | prediction on the perturbed image | pixels changed | mean distance of the perturbation from the centre (px) |\n|---|---|---|---|---|",
            self.eps
        );
        let mut rows = Vec::new();
        let mut distances = Vec::new();
        for net in &NETS {
            let Some(result) = ctx.results.get(&self.job(&plan, net)?) else {
                let _ = writeln!(md, "| {} | – | – | – | – |", net.label());
                distances.push(None);
                continue;
            };
            let w = result.shape[2];
            let mut perturbations = Vec::new();
            let mut perturbed = Vec::new();
            let mut sum = 0.0;
            for ex in &result.examples {
                let (dist, changed) = spread(ex, w);
                sum += dist;
                let _ = writeln!(
                    md,
                    "| {} | {} ({}) | {} | {:.0} % | {dist:.1} |",
                    net.label(),
                    ex.index,
                    ex.label,
                    ex.prediction,
                    100.0 * changed
                );
                let [_, delta, adversarial] = panels(ex, result.shape);
                perturbations.push(delta);
                perturbed.push(adversarial);
            }
            distances.push(Some(sum / result.examples.len().max(1) as f64));
            rows.push((format!("{}: perturbation", net.label()), perturbations));
            rows.push((format!("{}: perturbed", net.label()), perturbed));
            s.json.insert(
                net.id(),
                serde_json::json!({"mean_distance": distances.last()}),
            );
        }
        let claim = match (distances[0], distances[1]) {
            (Some(none), Some(l1)) => format!(
                "**{}** — mean distance from the centre: w/o {none:.1} px, L1 λ = 1e-2 {l1:.1} px",
                if l1 < none { "holds" } else { "does not hold" }
            ),
            _ => "not computed".into(),
        };
        let name = format!("{}.png", self.info.id);
        let _ = writeln!(
            md,
            "\nThe thesis's claim (§3.3, Fig. 3.12): the perturbations of the CNN without regularization are spread over the image, those of the CNN with L1 are centred: {claim}.\n\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (images).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Images {
                title: format!("{}: FGSM at ε = {}", self.info.id, self.eps),
                rows,
            },
        ));
        Ok(s)
    }
}
