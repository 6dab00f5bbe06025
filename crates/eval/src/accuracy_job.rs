//! [`AccuracyJob`]: the clean accuracy of a trained model on its own
//! training images or on the test images, for the train − test gaps of
//! Figs. 3.2 and 3.8–3.10 and Tables 3.4–3.6.

use candle_core::Device;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_attacks::{EvalClassifier, predict_dataset};
use sgbn_data::Dataset;
use sgbn_estimators::SeededRng;
use sgbn_models::Classifier;

use crate::work::{DataSource, Work, WorkInputs, on_model, run_stem};
use crate::{JOB_BATCH, RESULTS_VERSION, Result, TrainJob};

/// Which images an [`AccuracyJob`] classifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// The images the model was trained on (its share of the training set,
    /// less any held-out validation images).
    Train,
    /// The first images of the test set.
    Test,
}

/// Clean accuracy of one trained model on one split, one pass (evaluation
/// mode: dropout off, stochastic units sampled once).
#[derive(Debug, Clone, Serialize)]
pub struct AccuracyJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model measured.
    pub model: TrainJob,
    /// Which images.
    pub split: Split,
    /// At most this many of them (`None`: all).
    pub size: Option<usize>,
}

/// The outcome of an [`AccuracyJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyResult {
    /// Share classified correctly.
    pub accuracy: f64,
    /// Images classified.
    pub total: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl AccuracyJob {
    /// The accuracy of `model` on (at most `size` images of) `split`.
    pub fn new(model: &TrainJob, split: Split, size: Option<usize>) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.clone(),
            split,
            size,
        }
    }

    /// Images it classifies, of `train_available` training and
    /// `test_available` test images.
    pub fn images(&self, train_available: usize, test_available: usize) -> usize {
        let all = match self.split {
            Split::Train => self.model.images(train_available),
            Split::Test => test_available,
        };
        self.size.map_or(all, |s| s.min(all))
    }

    /// Cost in GFLOP, for progress estimates, for `images` images.
    pub fn cost(&self, images: usize) -> f64 {
        self.model.spec.forward_flops().total() as f64 * images as f64 / 1e9
    }

    /// Runs it on the trained model (evaluation mode at `slope`).
    pub fn run(
        &self,
        model: &dyn Classifier,
        slope: f64,
        train: &Dataset,
        test: &Dataset,
        device: &Device,
    ) -> Result<AccuracyResult> {
        let start = std::time::Instant::now();
        let data = match self.split {
            Split::Train => self.model.split(train)?.0,
            Split::Test => test.clone(),
        };
        let n = self.size.map_or(data.len(), |s| s.min(data.len()));
        let data = data.first(n)?.to_device(device)?;
        let mut rng = SeededRng::seed_from_u64(0xacc ^ self.model.run as u64);
        let predicted = predict_dataset(
            &EvalClassifier::new(model, slope),
            data.images(),
            JOB_BATCH,
            &mut rng,
        )?;
        let labels = data.label_vec()?;
        let correct = predicted
            .iter()
            .zip(&labels)
            .filter(|(p, y)| p == y)
            .count();
        Ok(AccuracyResult {
            accuracy: correct as f64 / n.max(1) as f64,
            total: n,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

impl Work for AccuracyJob {
    type Output = AccuracyResult;
    const KIND: &'static str = "accuracy";
    const FOLDER: &'static str = "accuracy";
    const NOUN: &'static str = "clean accuracies";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!(
            "accuracy {} run {} ({:?})",
            self.model.model, self.model.run, self.split
        )
    }
    fn cost(&self, data: &dyn DataSource) -> Result<f64> {
        let spec = &self.model.spec;
        Ok(self.cost(self.images(data.train_for(spec)?.len(), data.test_for(spec)?.len())))
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<AccuracyResult> {
        let train = inputs.data.train_for(&self.model.spec)?;
        on_model(inputs, &self.model, |m, s, test, d| {
            self.run(m, s, train, test, d)
        })
    }
}
