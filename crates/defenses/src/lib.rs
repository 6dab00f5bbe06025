//! # sgbn-defenses
//!
//! Training recipes (thesis §4.3.1): [`train`] with [`Adam`], mini-batches
//! reshuffled by a seeded generator, per-epoch slope annealing, L1/L2
//! penalties (eq. 2.9), early stopping on a validation split, a checkpoint
//! after every epoch written atomically, and exact resume: a run killed
//! mid-epoch and started again ends with the same weights, bit for bit, as
//! an uninterrupted one. A NaN or infinite loss stops training with
//! [`TrainError::NonFiniteLoss`] and keeps the last good checkpoint.
//!
//! Also: the REINFORCE surrogate loss of the chapter-3 networks (eq. 2.14–2.16,
//! with the variance-minimizing baseline), PGD adversarial training with the
//! loss mix τ (eq. 2.29; [`pgd_training_examples`]) for the BNN with PGD, and
//! the toy regression training of §4.6.5 ([`train_toy`]).
//!
//! ## Quick start
//!
//! ```
//! use candle_core::Device;
//! use sgbn_defenses::{Quiet, TrainConfig, train};
//! use sgbn_models::{ConvNet, ModelSpec};
//!
//! // `$SGBN_DATA_DIR`, else the copy vendored in the repository.
//! let Some(dir) = sgbn_data::available_mnist_dir() else {
//!     eprintln!("no MNIST here: set SGBN_DATA_DIR to a folder holding it");
//!     return Ok(());
//! };
//! let mnist = sgbn_data::load_mnist(&dir)?;
//! let model = ConvNet::new(&ModelSpec::named("cnn")?, 0, &Device::Cpu)?;
//! // The thesis's recipe (Adam 1e-3, batch 50), one epoch on 200 images, no early stopping.
//! let config = TrainConfig { epochs: 1, early_stopping: None, ..TrainConfig::default() };
//! let report = train(&model, &mnist.train.first(200)?, None, &config, None, &mut Quiet)?;
//! assert_eq!(report.epochs.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod adam;
mod adversarial_training;
mod error;
mod fused_adam;
mod toy_training;
mod trainer;

pub use adam::{Adam, AdamConfig};
pub use adversarial_training::pgd_training_examples;
pub use error::{Result, TrainError};
pub use toy_training::{ToyReport, train_toy, train_toy_observed};
pub use trainer::{
    EarlyStopping, EarlyStoppingRule, EpochLog, Quiet, TrainConfig, TrainObserver, TrainReport,
    batch_rng, checkpoint_log, train, trained_slope,
};
