//! Errors of the attacks crate.

use thiserror::Error;

/// What can go wrong while configuring or running an attack.
#[derive(Debug, Error)]
pub enum AttackError {
    /// A configuration value is out of range (negative ε, step larger than
    /// ε, zero steps, …); the message names the value.
    #[error("invalid attack configuration: {0}")]
    InvalidConfig(String),
    /// Images and labels disagree, or an input is not a batch of images.
    #[error("invalid attack input: {0}")]
    InvalidInput(String),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] sgbn_models::ModelError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A layer of sgbn-layers in the user's own model failed.
    #[error(transparent)]
    Layer(#[from] sgbn_layers::LayerError),
    /// Any other error of the user's own model (a `Victim` they wrote):
    /// `?` on a `Box<dyn Error + Send + Sync>` lands here.
    #[error(transparent)]
    Other(#[from] Box<dyn std::error::Error + Send + Sync>),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, AttackError>;

/// So that an sgbn attack can be called with `?` inside code that returns
/// `candle_core::Result` (a `Module::forward` of your own, say): a
/// candle error inside comes back as itself, anything else wrapped.
impl From<AttackError> for candle_core::Error {
    fn from(e: AttackError) -> Self {
        match e {
            AttackError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}
