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
//! Planned: the REINFORCE loss signal for the chapter-3 networks and PGD
//! adversarial training with the loss mix τ (eq. 2.29) for BNN.

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
pub use toy_training::{ToyReport, train_toy};
pub use trainer::{
    EarlyStopping, EpochLog, Quiet, TrainConfig, TrainObserver, TrainReport, batch_rng,
    checkpoint_log, train, trained_slope,
};
