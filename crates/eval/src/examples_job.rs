//! [`ExamplesJob`]: adversarial examples of a few chosen test images, kept
//! as pixels for figures (Figs. 3.12 and 3.13).

use candle_core::Device;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_attacks::{EvalClassifier, attack_dataset};
use sgbn_data::Dataset;
use sgbn_estimators::SeededRng;
use sgbn_models::Classifier;

use crate::work::{DataSource, Work, WorkInputs, on_model, run_stem};
use crate::{AttackSpec, RESULTS_VERSION, Result, TrainJob, jobs::chosen_test_images};

/// The attack's examples of some test images of one trained model.
#[derive(Debug, Clone, Serialize)]
pub struct ExamplesJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model attacked.
    pub model: TrainJob,
    /// The attack.
    pub attack: AttackSpec,
    /// Indices of the test images.
    pub indices: Vec<usize>,
}

/// One attacked image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Its index in the test set.
    pub index: usize,
    /// Its true label.
    pub label: u32,
    /// The clean pixels, `C·H·W` in [0, 1].
    pub clean: Vec<f32>,
    /// The adversarial pixels.
    pub adversarial: Vec<f32>,
    /// The model's prediction on the adversarial image (the attack's
    /// judging pass).
    pub prediction: u32,
}

impl Example {
    /// The perturbation, adversarial − clean.
    pub fn perturbation(&self) -> Vec<f32> {
        self.adversarial
            .iter()
            .zip(&self.clean)
            .map(|(a, c)| a - c)
            .collect()
    }
}

/// The outcome of an [`ExamplesJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamplesResult {
    /// `[C, H, W]` of every image.
    pub shape: [usize; 3],
    /// The examples, in the job's order.
    pub examples: Vec<Example>,
}

impl ExamplesJob {
    /// The examples of `attack` on the test images at `indices`.
    pub fn new(model: &TrainJob, attack: AttackSpec, indices: &[usize]) -> Self {
        Self {
            version: RESULTS_VERSION,
            model: model.clone(),
            attack,
            indices: indices.to_vec(),
        }
    }

    /// Cost in GFLOP, for progress estimates.
    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * self.indices.len() as f64
            * self.attack.passes()
            / 1e9
    }

    /// Runs it on the trained model (evaluation mode at `slope`).
    pub fn run(
        &self,
        model: &dyn Classifier,
        slope: f64,
        test: &Dataset,
        device: &Device,
    ) -> Result<ExamplesResult> {
        let chosen = chosen_test_images(test, &self.indices, device)?;
        let mut rng = SeededRng::seed_from_u64(0xe8a ^ self.model.run as u64);
        let attack = self.attack.build(self.model.run as u64)?;
        let victim = EvalClassifier::new(model, slope).with_bpda(self.attack.bpda());
        let out = attack_dataset(
            attack.as_ref(),
            &victim,
            chosen.images(),
            chosen.labels(),
            self.indices.len().max(1),
            &mut rng,
        )?;
        let dims = chosen.images().dims().to_vec();
        let shape = [dims[1], dims[2], dims[3]];
        let clean = chosen.images().flatten_from(1)?.to_vec2::<f32>()?;
        let adversarial = out.adversarial.flatten_from(1)?.to_vec2::<f32>()?;
        let labels = chosen.label_vec()?;
        let examples = (0..self.indices.len())
            .map(|k| Example {
                index: self.indices[k],
                label: labels[k],
                clean: clean[k].clone(),
                adversarial: adversarial[k].clone(),
                prediction: out.predictions[k],
            })
            .collect();
        Ok(ExamplesResult { shape, examples })
    }
}

impl Work for ExamplesJob {
    type Output = ExamplesResult;
    const KIND: &'static str = "examples";
    const FOLDER: &'static str = "examples";
    const NOUN: &'static str = "example sets";
    fn stem(&self) -> String {
        run_stem(&self.model)
    }
    fn label(&self) -> String {
        format!(
            "examples {} run {}: {:?}",
            self.model.model, self.model.run, self.attack
        )
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        vec![&self.model]
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<ExamplesResult> {
        on_model(inputs, &self.model, |m, s, test, d| self.run(m, s, test, d))
    }
}
