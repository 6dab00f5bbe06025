//! Errors of the metrics crate.

use thiserror::Error;

/// What can go wrong while measuring.
#[derive(Debug, Error)]
pub enum MetricsError {
    /// An argument is out of range (no bins, zero repeats, …); the message
    /// names it.
    #[error("invalid metric argument: {0}")]
    InvalidArgument(String),
    /// Two inputs that must match do not.
    #[error("mismatched inputs: {0}")]
    Mismatch(String),
    /// Running the model failed.
    #[error(transparent)]
    Attack(#[from] sgbn_attacks::AttackError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A model's forward pass failed.
    #[error(transparent)]
    Model(#[from] sgbn_models::ModelError),
    /// A layer's computation failed.
    #[error(transparent)]
    Layer(#[from] sgbn_layers::LayerError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, MetricsError>;
