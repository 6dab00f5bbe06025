//! The first gate of SGBN on two test digits: its binary masks (`fig4.7`)
//! or its probabilities σ(a) before binarization (`fig4.8`), one 5×5 image
//! per filter, as PNG.

use std::fmt::Write;

use super::gate_histogram::{MAP_EXAMPLES, gate_job};
use crate::{
    Experiment, ExperimentInfo, Figure, GrayImage, Jobs, PixelScale, PlanContext, ReportContext,
    Result, Section,
};

/// What the maps show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateMap {
    /// The binary masks drawn (black: on).
    Masks,
    /// σ(a), blue (0) to red (1) through white (0.5).
    Probabilities,
}

/// The maps of the first gate for [`MAP_EXAMPLES`].
#[derive(Debug)]
pub struct GateMaps {
    /// Its names and place.
    pub info: ExperimentInfo,
    /// Masks or probabilities.
    pub map: GateMap,
}

impl Experiment for GateMaps {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs {
            trains: vec![ctx.train_job("sgbn", 0)?],
            ..Jobs::default()
        };
        jobs.add(gate_job(ctx, 0)?);
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let mut s = Section::default();
        let md = &mut s.markdown;
        let result = ctx.results.get(&gate_job(&ctx.plan(), 0)?);
        let what = match self.map {
            GateMap::Masks => "the binary masks (black: weight on)",
            GateMap::Probabilities => "σ(a) before binarization (blue 0, white 0.5, red 1)",
        };
        let _ = writeln!(
            md,
            "Gate 1 of SGBN (run 0) on test images {MAP_EXAMPLES:?}: {what}, one 5×5 image per filter, a row of filters per image.\n\n| image (label) | weights switched on | mean σ(a) |\n|---|---|---|"
        );
        let mut rows = Vec::new();
        for ex in result.iter().flat_map(|r| &r.examples) {
            let [filters, channels, kh, kw] = ex.shape;
            let per_filter = channels * kh * kw;
            let on =
                ex.masks.iter().filter(|m| **m > 0.0).count() as f64 / ex.masks.len().max(1) as f64;
            let mean = ex.probabilities.iter().map(|p| f64::from(*p)).sum::<f64>()
                / ex.probabilities.len().max(1) as f64;
            let _ = writeln!(
                md,
                "| {} ({}) | {:.0} % | {mean:.2} |",
                ex.index,
                ex.label,
                100.0 * on
            );
            let images = (0..filters)
                .map(|f| {
                    let slice = |v: &[f32]| v[f * per_filter..f * per_filter + kh * kw].to_vec();
                    let (pixels, scale) = match self.map {
                        GateMap::Masks => (slice(&ex.masks), PixelScale::Unit),
                        GateMap::Probabilities => (
                            slice(&ex.probabilities)
                                .iter()
                                .map(|p| 2.0 * p - 1.0)
                                .collect(),
                            PixelScale::SignedUnit,
                        ),
                    };
                    GrayImage {
                        caption: format!("filter {f}"),
                        width: kw,
                        height: kh,
                        pixels,
                        scale,
                    }
                })
                .collect();
            rows.push((format!("image {} ({})", ex.index, ex.label), images));
        }
        if rows.is_empty() {
            let _ = writeln!(md, "| – | – | – |");
        }
        let name = format!("{}.png", self.info.id);
        let _ = writeln!(
            md,
            "\n![{}](figures/{name})\n\n**Verdict:** no thesis numbers to compare with (images).\n",
            self.info.id
        );
        s.figures.push((
            name,
            Figure::Images {
                title: format!("{}: gate 1 of SGBN", self.info.id),
                rows,
            },
        ));
        Ok(s)
    }
}
