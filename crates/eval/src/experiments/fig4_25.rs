//! `fig4.25`: the toy regression set: 300 points of `y = |x|` on
//! `linspace(−1, 1)`, split at random into 210 training and 90 test points
//! (Fig. 4.25, §4.6.5). Drawn from the data itself; nothing to compute.
//! The thesis states no number for it beyond the split's sizes.

use std::fmt::Write;

use candle_core::{Device, Tensor};
use sgbn_data::ToyRegression;

use crate::{
    Experiment, ExperimentInfo, Figure, Jobs, PlanContext, ReportContext, Result, Section, Series,
};

/// The experiment.
pub static FIG4_25: Fig4_25 = Fig4_25;

/// The toy data figure.
#[derive(Debug)]
pub struct Fig4_25;

const INFO: ExperimentInfo = ExperimentInfo {
    id: "fig4.25",
    title: "The toy regression set: training and testing targets",
    reference: "Fig. 4.25, §4.6.5",
    models: &[],
    default_set: true,
};

fn points(x: &Tensor, y: &Tensor) -> Result<Vec<(f64, f64, f64)>> {
    let x: Vec<f32> = x.flatten_all()?.to_vec1()?;
    let y: Vec<f32> = y.flatten_all()?.to_vec1()?;
    Ok(x.iter()
        .zip(&y)
        .map(|(a, b)| (f64::from(*a), f64::from(*b), 0.0))
        .collect())
}

impl Experiment for Fig4_25 {
    fn info(&self) -> &ExperimentInfo {
        &INFO
    }

    fn jobs(&self, _: &PlanContext<'_>) -> Result<Jobs> {
        Ok(Jobs::default())
    }

    fn report(&self, _: &ReportContext<'_>) -> Result<Section> {
        // The split of every toy run (ToyJob::data_seed).
        let data = ToyRegression::generate(0, &Device::Cpu)?;
        let train = points(&data.train_x, &data.train_y)?;
        let test = points(&data.test_x, &data.test_y)?;
        let mut s = Section::default();
        let _ = writeln!(
            s.markdown,
            "{} training and {} testing points of `y = |x|`, `x = linspace(−1, 1, 300)`, split at random (seed 0, the split of every toy run).\n\n![fig4.25](figures/fig4.25.svg)\n\n**Verdict:** no thesis numbers to compare with (the data).\n",
            train.len(),
            test.len()
        );
        s.json.insert(
            "sizes".into(),
            serde_json::json!({"train": train.len(), "test": test.len()}),
        );
        s.figures.push((
            "fig4.25.svg".into(),
            Figure::Line {
                title: "fig4.25: toy targets".into(),
                x_label: "x".into(),
                y_label: "|x|".into(),
                y_max: 1.0,
                series: vec![
                    Series {
                        label: "training".into(),
                        points: train,
                        dashed: false,
                        color: 0,
                    },
                    Series {
                        label: "testing".into(),
                        points: test,
                        dashed: true,
                        color: 1,
                    },
                ],
            },
        ));
        Ok(s)
    }
}
