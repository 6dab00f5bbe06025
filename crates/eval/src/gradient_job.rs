//! [`GradientJob`]: the input gradient ∇ₓ CE of a trained model on clean
//! test images at their true labels (Figs. 4.16, 4.20): its summary figures
//! and the histogram of its components.

use candle_core::Device;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_attacks::EvalClassifier;
use sgbn_data::Dataset;
use sgbn_estimators::SeededRng;
use sgbn_metrics::{GradientSampling, GradientStats, Histogram};
use sgbn_models::Classifier;

use crate::work::{DataSource, Work, WorkInputs, on_model, run_stem};
use crate::{JOB_BATCH, RESULTS_VERSION, Result, TrainJob};

/// ∇ₓ CE of one trained model over the first test images.
#[derive(Debug, Clone, Serialize)]
pub struct GradientJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model.
    pub model: TrainJob,
    /// The first this many test images.
    pub test_size: usize,
    /// The histogram's range `[−range, range]` (components outside are
    /// counted in its `below` / `above`).
    pub range: f64,
    /// Its bins.
    pub bins: usize,
}

/// The outcome of a [`GradientJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientResult {
    /// Mean, variance, zeros, non-finite components.
    pub stats: GradientStats,
    /// Histogram of the finite components.
    pub histogram: Histogram,
}

impl GradientJob {
    /// ∇ₓ CE of `model` on its first `test_size` test images, histogram over
    /// `[−range, range]` in `bins` bins.
    pub fn new(model: &TrainJob, test_size: usize, range: f64, bins: usize) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.clone(),
            test_size,
            range,
            bins,
        }
    }

    /// Cost in GFLOP, for progress estimates (a forward and a backward pass).
    pub fn cost(&self) -> f64 {
        3.0 * self.model.spec.forward_flops().total() as f64 * self.test_size as f64 / 1e9
    }

    /// Runs it on the trained model (evaluation mode at `slope`, one draw
    /// of its randomness per image).
    pub fn run(
        &self,
        model: &dyn Classifier,
        slope: f64,
        test: &Dataset,
        device: &Device,
    ) -> Result<GradientResult> {
        let n = self.test_size.min(test.len());
        let data = test.first(n)?.to_device(device)?;
        let mut rng = SeededRng::seed_from_u64(0x96ad ^ self.model.run as u64);
        let stats = GradientStats::measure(
            &EvalClassifier::new(model, slope),
            data.images(),
            data.labels(),
            GradientSampling {
                eot_samples: 1,
                batch_size: JOB_BATCH,
            },
            &mut rng,
        )?;
        let histogram = stats.histogram(-self.range, self.range, self.bins)?;
        Ok(GradientResult { stats, histogram })
    }
}

impl Work for GradientJob {
    type Output = GradientResult;
    const KIND: &'static str = "gradients";
    const FOLDER: &'static str = "gradients";
    const NOUN: &'static str = "gradient measurements";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!(
            "input gradients {} run {}",
            self.model.model, self.model.run
        )
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<GradientResult> {
        on_model(inputs, &self.model, |m, s, test, d| self.run(m, s, test, d))
    }
}
