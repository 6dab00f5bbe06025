//! [`GateJob`]: what the gates of a trained gated model do on clean test
//! images (Figs. 4.7–4.9, B.1): the share of weights each gate switches on,
//! the histogram of its probabilities σ(a), and, for a few chosen images,
//! the first gate's σ(a) and masks themselves.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_data::Dataset;
use sgbn_estimators::SeededRng;
use sgbn_metrics::{GateStats, Histogram, RunSummary};
use sgbn_models::{Classifier, ForwardContext};

use crate::work::{DataSource, Work, WorkInputs, on_model, run_stem};
use crate::{EvalError, JOB_BATCH, RESULTS_VERSION, Result, TrainJob, jobs::chosen_test_images};

/// The gates of one trained model on the first test images.
#[derive(Debug, Clone, Serialize)]
pub struct GateJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model (with gates).
    pub model: TrainJob,
    /// The first this many test images.
    pub test_size: usize,
    /// Bins of the σ(a) histograms over [0, 1].
    pub bins: usize,
    /// Test images whose first-gate σ(a) and masks are kept.
    pub examples: Vec<usize>,
}

/// One gate over the images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateSummary {
    /// Share of its mask entries that are on, over the examples (mean ±
    /// std across images).
    pub share_on: RunSummary,
    /// Histogram of σ(a) over every entry of every image.
    pub probabilities: Histogram,
    /// Mean σ(a).
    pub mean_probability: f64,
}

/// The first gate on one chosen image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateExample {
    /// Test image index.
    pub index: usize,
    /// Its label.
    pub label: u32,
    /// σ(a), `(C_out, C_in, k, k)` flattened.
    pub probabilities: Vec<f32>,
    /// The binary masks drawn, same shape.
    pub masks: Vec<f32>,
    /// `[C_out, C_in, k, k]`.
    pub shape: [usize; 4],
}

/// The outcome of a [`GateJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    /// One per gate, in layer order.
    pub gates: Vec<GateSummary>,
    /// The chosen images.
    pub examples: Vec<GateExample>,
}

impl GateJob {
    /// The gates of `model` on its first `test_size` test images.
    pub fn new(model: &TrainJob, test_size: usize, bins: usize, examples: &[usize]) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.clone(),
            test_size,
            bins,
            examples: examples.to_vec(),
        }
    }

    /// Cost in GFLOP, for progress estimates.
    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * (self.test_size + self.examples.len()) as f64
            / 1e9
    }

    /// Runs it on the trained model (evaluation mode at `slope`).
    pub fn run(
        &self,
        model: &dyn Classifier,
        slope: f64,
        test: &Dataset,
        device: &Device,
    ) -> Result<GateResult> {
        let chosen = chosen_test_images(test, &self.examples, device)?;
        let mut rng = SeededRng::seed_from_u64(0x6a7e ^ self.model.run as u64);
        let n = self.test_size.min(test.len());
        let data = test.first(n)?.to_device(device)?;
        let mut shares: Vec<Vec<f64>> = Vec::new();
        let mut hists: Vec<Histogram> = Vec::new();
        let mut sums: Vec<(f64, usize)> = Vec::new();
        let mut start = 0;
        while start < n {
            let len = JOB_BATCH.min(n - start);
            let x = data.images().narrow(0, start, len)?;
            model.forward(&x, ForwardContext::eval(slope), &mut rng)?;
            let traces: Vec<_> = model
                .as_gated()
                .map(|g| g.gate_traces())
                .into_iter()
                .flatten()
                .flatten()
                .collect();
            if traces.is_empty() {
                return Err(EvalError::InvalidConfig(format!(
                    "{} has no gates",
                    self.model.model
                )));
            }
            for (g, trace) in traces.iter().enumerate() {
                let stats = GateStats::of(trace, self.bins)?;
                let p = trace.probabilities.to_dtype(DType::F64)?;
                let count = p.elem_count();
                let sum = p.sum_all()?.to_scalar::<f64>()?;
                if shares.len() <= g {
                    shares.push(Vec::new());
                    hists.push(Histogram::new(0.0, 1.0, self.bins)?);
                    sums.push((0.0, 0));
                }
                shares[g].extend(&stats.share_on_per_example);
                for (a, b) in hists[g].counts.iter_mut().zip(&stats.probabilities.counts) {
                    *a += b;
                }
                hists[g].non_finite += stats.probabilities.non_finite;
                sums[g].0 += sum;
                sums[g].1 += count;
            }
            start += len;
        }
        let gates = shares
            .iter()
            .zip(hists)
            .zip(&sums)
            .map(|((s, h), (sum, count))| {
                Ok(GateSummary {
                    share_on: RunSummary::of(s)?,
                    probabilities: h,
                    mean_probability: sum / (*count).max(1) as f64,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut examples = Vec::new();
        if !self.examples.is_empty() {
            model.forward(chosen.images(), ForwardContext::eval(slope), &mut rng)?;
            let first = model
                .as_gated()
                .map(|g| g.gate_traces())
                .into_iter()
                .flatten()
                .flatten()
                .next()
                .ok_or_else(|| EvalError::InvalidConfig("no gate traced".into()))?;
            let dims = first.probabilities.dims().to_vec();
            let shape = [dims[1], dims[2], dims[3], dims[4]];
            let rows = |t: &Tensor| -> Result<Vec<Vec<f32>>> {
                Ok(t.to_dtype(DType::F32)?.flatten_from(1)?.to_vec2::<f32>()?)
            };
            let (p, m) = (rows(&first.probabilities)?, rows(&first.masks)?);
            let labels = chosen.label_vec()?;
            for (k, &index) in self.examples.iter().enumerate() {
                examples.push(GateExample {
                    index,
                    label: labels[k],
                    probabilities: p[k].clone(),
                    masks: m[k].clone(),
                    shape,
                });
            }
        }
        Ok(GateResult { gates, examples })
    }
}

impl Work for GateJob {
    type Output = GateResult;
    const KIND: &'static str = "gates";
    const FOLDER: &'static str = "gates";
    const NOUN: &'static str = "gate measurements";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!("gates {} run {}", self.model.model, self.model.run)
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<GateResult> {
        on_model(inputs, &self.model, |m, s, test, d| self.run(m, s, test, d))
    }
}
