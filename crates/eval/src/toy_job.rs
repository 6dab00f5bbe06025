//! [`ToyJob`]: one training run of a toy regression network of §4.6.5
//! (Tables 4.9–4.10): its learning curve, its test predictions, its gate's
//! outputs on the test inputs, and the histogram of its gate's σ(a) at
//! chosen iterations (Figs. 4.27–4.31).

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_data::ToyRegression;
use sgbn_defenses::train_toy_observed;
use sgbn_estimators::SeededRng;
use sgbn_metrics::Histogram;
use sgbn_models::{ToyNet, ToySpec};

use crate::work::{DataSource, Work, WorkInputs};
use crate::{RESULTS_VERSION, Result, TrainJob};

/// The thesis's toy settings: Adam at 1e-3, full-batch (§4.6.5).
pub const TOY_LR: f64 = 1e-3;

/// Bins of the σ(a) histograms (Fig. 4.29).
pub const TOY_BINS: usize = 10;

/// Every this many iterations the learning curve keeps a point.
pub const TOY_CURVE_EVERY: usize = 50;

/// One run of one toy network.
#[derive(Debug, Clone, Serialize)]
pub struct ToyJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// Its name ([`sgbn_models::TOY_NAMES`]).
    pub model: String,
    /// Run index: the seed of its initial values and gate draws.
    pub run: usize,
    /// Full-batch Adam steps (thesis: 5,000).
    pub iterations: usize,
    /// Learning rate.
    pub lr: f64,
    /// Seed of the 210 / 90 split (the same for every run).
    pub data_seed: u64,
    /// Iterations at which the gate's σ(a) on the training inputs is
    /// histogrammed (`iterations` itself: after training).
    pub snapshots: Vec<usize>,
}

/// The outcome of a [`ToyJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToyResult {
    /// Training MSE every [`TOY_CURVE_EVERY`] iterations, from iteration 0.
    pub train_mse: Vec<f64>,
    /// Test MSE after training.
    pub test_mse: f64,
    /// Test inputs, in increasing order.
    pub test_x: Vec<f32>,
    /// Test targets `|x|`.
    pub test_y: Vec<f32>,
    /// Predictions on the test inputs (one draw of the gate).
    pub prediction: Vec<f32>,
    /// The gate's two outputs per test input (masks for a stochastic gate,
    /// σ(a) for a deterministic one); empty for the MLP.
    pub gate: Vec<[f32; 2]>,
    /// `(iteration, histogram of σ(a) over the training inputs)`.
    pub sigma: Vec<(usize, Histogram)>,
}

fn pairs(t: &Tensor) -> Result<Vec<[f32; 2]>> {
    Ok(t.to_dtype(DType::F32)?
        .to_vec2::<f32>()?
        .into_iter()
        .map(|r| [r[0], r[1]])
        .collect())
}

fn sigma_histogram(model: &ToyNet) -> Result<Option<Histogram>> {
    let Some(p) = model.last_probabilities() else {
        return Ok(None);
    };
    let v: Vec<f32> = p.flatten_all()?.to_vec1()?;
    Ok(Some(Histogram::of(
        v.into_iter().map(f64::from),
        0.0,
        1.0,
        TOY_BINS,
    )?))
}

impl ToyJob {
    /// Run `run` of toy network `model`.
    pub fn new(model: &str, run: usize, iterations: usize, snapshots: &[usize]) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.into(),
            run,
            iterations,
            lr: TOY_LR,
            data_seed: 0,
            snapshots: snapshots.to_vec(),
        }
    }

    /// Cost in GFLOP, for progress estimates (a few hundred operations a
    /// point and iteration).
    pub fn cost(&self) -> f64 {
        (self.iterations * ToyRegression::TRAIN * 200) as f64 / 1e9
    }

    /// Trains it and measures it.
    pub fn run(&self, device: &Device) -> Result<ToyResult> {
        let spec = ToySpec::named(&self.model)?;
        let data = ToyRegression::generate(self.data_seed, device)?;
        let model = ToyNet::new(spec, self.run as u64, device)?;
        let mut sigma = Vec::new();
        let report = train_toy_observed(
            &model,
            &data,
            self.iterations,
            self.lr,
            self.run as u64,
            &mut |i, m| {
                if self.snapshots.contains(&i)
                    && let Some(h) = sigma_histogram(m)
                        .map_err(|e| sgbn_defenses::TrainError::InvalidConfig(e.to_string()))?
                {
                    sigma.push((i, h));
                }
                Ok(())
            },
        )?;
        let mut rng = SeededRng::seed_from_u64(0x70e ^ self.run as u64);
        if self.snapshots.contains(&self.iterations) {
            model.forward(&data.train_x, &mut rng)?;
            if let Some(h) = sigma_histogram(&model)? {
                sigma.push((self.iterations, h));
            }
        }
        let prediction = model.forward(&data.test_x, &mut rng)?;
        let gate = match model.last_masks() {
            Some(m) => pairs(&m)?,
            None => Vec::new(),
        };
        let flat = |t: &Tensor| -> Result<Vec<f32>> { Ok(t.flatten_all()?.to_vec1::<f32>()?) };
        Ok(ToyResult {
            train_mse: report
                .train_mse
                .iter()
                .step_by(TOY_CURVE_EVERY)
                .copied()
                .collect(),
            test_mse: report.test_mse,
            test_x: flat(&data.test_x)?,
            test_y: flat(&data.test_y)?,
            prediction: flat(&prediction)?,
            gate,
            sigma,
        })
    }
}

impl Work for ToyJob {
    type Output = ToyResult;
    const KIND: &'static str = "toy";
    const FOLDER: &'static str = "toy";
    const NOUN: &'static str = "toy runs";
    fn stem(&self) -> String {
        format!("{}-run{}", self.model, self.run)
    }
    fn label(&self) -> String {
        format!("toy {} run {}", self.model, self.run)
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        Vec::new()
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<ToyResult> {
        self.run(inputs.device)
    }
}
