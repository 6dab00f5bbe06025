//! Full-batch training of the toy regression networks (§4.6.5).

use candle_core::DType;
use rand::SeedableRng;
use sgbn_data::ToyRegression;
use sgbn_estimators::SeededRng;
use sgbn_models::ToyNet;

use crate::{Adam, AdamConfig, Result, TrainError};

/// What the toy experiment records.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToyReport {
    /// Training mean squared error at every iteration, before its update
    /// (the learning curve of Fig. 4.28).
    pub train_mse: Vec<f64>,
    /// Test mean squared error after training.
    pub test_mse: f64,
}

/// Trains `model` on the whole training set at once for `iterations` Adam
/// steps (thesis: 5,000 at learning rate 1e-3, "batch, not mini-batch"),
/// with the squared-error loss; gate draws come from `seed`.
pub fn train_toy(
    model: &ToyNet,
    data: &ToyRegression,
    iterations: usize,
    lr: f64,
    seed: u64,
) -> Result<ToyReport> {
    train_toy_observed(model, data, iterations, lr, seed, &mut |_, _| Ok(()))
}

/// [`train_toy`], calling `observe(iteration, model)` after each
/// iteration's forward pass on the training set and before its update (so
/// `model.last_probabilities()` holds that pass's gate values; Fig. 4.29).
pub fn train_toy_observed(
    model: &ToyNet,
    data: &ToyRegression,
    iterations: usize,
    lr: f64,
    seed: u64,
    observe: &mut dyn FnMut(usize, &ToyNet) -> Result<()>,
) -> Result<ToyReport> {
    let mut adam = Adam::new(
        model.trainable(),
        AdamConfig {
            lr,
            ..AdamConfig::default()
        },
    )?;
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut train_mse = Vec::with_capacity(iterations);
    for iteration in 0..iterations {
        let y = model.forward(&data.train_x, &mut rng)?;
        let loss = (y - &data.train_y)?.sqr()?.mean_all()?;
        let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !value.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                epoch: 0,
                batch: iteration,
                value,
                lr,
            });
        }
        train_mse.push(value);
        observe(iteration, model)?;
        adam.step(&loss.backward()?)?;
    }
    let y = model.forward(&data.test_x, &mut rng)?;
    let test_mse = (y - &data.test_y)?
        .sqr()?
        .mean_all()?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?;
    Ok(ToyReport {
        train_mse,
        test_mse,
    })
}
