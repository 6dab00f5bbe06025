//! The surrogate of the transfer line: the thesis's plain CNN (§4.3.1) at
//! the audited model's input size, trained by the audit on the given
//! training images with seeded initial values and batch order.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sgbn_data::Dataset;
use sgbn_defenses::{TrainConfig, TrainObserver, train};
use sgbn_models::{ConvNet, ModelSpec};

use super::AuditBudget;
use crate::Result;

/// What the transfer line was crafted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurrogateInfo {
    /// Its spec (the thesis's CNN at the data's size).
    pub spec: ModelSpec,
    /// Its training settings.
    pub config: TrainConfig,
    /// Training images used.
    pub train_images: usize,
    /// Its final training accuracy.
    pub train_accuracy: f64,
}

/// The surrogate's spec for images `[C, H, W]` and `classes` classes: the
/// thesis's CNN, with each conv padded to keep its size where the thesis's
/// (unpadded) layers do not fit small images, or why there is none.
pub fn surrogate_spec(input: [usize; 3], classes: usize) -> std::result::Result<ModelSpec, String> {
    let mut spec = ModelSpec::named("cnn").map_err(|e| e.to_string())?;
    spec.name = "surrogate CNN".into();
    spec.input = input;
    spec.classes = classes;
    let first = match spec.validate() {
        Ok(_) => return Ok(spec),
        Err(e) => e,
    };
    spec.name = "surrogate CNN (size-keeping padding)".into();
    for c in &mut spec.convs {
        c.padding = c.kernel / 2;
    }
    match spec.validate() {
        Ok(_) => Ok(spec),
        Err(e) => Err(format!(
            "the thesis's CNN does not fit {}×{}×{} images: {first}; padded: {e}",
            input[0], input[1], input[2]
        )),
    }
}

/// The training settings of the surrogate: the budget's epochs and seed,
/// no early stopping, otherwise the trainer's defaults.
pub fn surrogate_config(budget: &AuditBudget) -> TrainConfig {
    TrainConfig {
        epochs: budget.surrogate_epochs,
        early_stopping: None,
        seed: budget.seed,
        ..TrainConfig::default()
    }
}

/// Trains the surrogate `spec` on the first `budget.surrogate_train_size`
/// images of `train`, resuming from (and writing after each epoch to)
/// `checkpoint` when given.
pub fn train_surrogate(
    spec: &ModelSpec,
    train_set: &Dataset,
    budget: &AuditBudget,
    checkpoint: Option<&Path>,
    observer: &mut dyn TrainObserver,
) -> Result<(ConvNet, SurrogateInfo)> {
    let device = train_set.images().device().clone();
    let n = budget
        .surrogate_train_size
        .map_or(train_set.len(), |k| k.min(train_set.len()));
    let subset = train_set.select(&(0..n).collect::<Vec<_>>())?;
    let net = ConvNet::new(spec, budget.seed, &device)?;
    let config = surrogate_config(budget);
    let report = train(&net, &subset, None, &config, checkpoint, observer)?;
    let train_accuracy = report.epochs.last().map_or(0.0, |e| e.train_accuracy);
    Ok((
        net,
        SurrogateInfo {
            spec: spec.clone(),
            config,
            train_images: n,
            train_accuracy,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::surrogate_spec;

    #[test]
    fn mnist_keeps_the_thesis_cnn_and_small_images_get_padding() {
        let mnist = surrogate_spec([1, 28, 28], 10).expect("28×28");
        let thesis = sgbn_models::ModelSpec::named("cnn").expect("cnn");
        assert_eq!(mnist.convs, thesis.convs);
        assert!(surrogate_spec([3, 32, 32], 10).is_ok());
        let small = surrogate_spec([1, 4, 4], 2).expect("4×4");
        assert!(small.convs.iter().all(|c| c.padding == c.kernel / 2));
    }
}
