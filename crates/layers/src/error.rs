//! The error type of this crate.

/// Errors of the layers.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// A tensor operation failed (shape, dtype or device problem).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An estimator failed.
    #[error(transparent)]
    Estimator(#[from] sgbn_estimators::EstimatorError),
    /// A layer was configured with values that cannot work.
    #[error("invalid {layer} configuration: {why}")]
    InvalidConfig {
        /// The layer.
        layer: &'static str,
        /// What is wrong.
        why: String,
    },
    /// An input does not have the shape the layer expects.
    #[error("{layer}: input of shape {found:?}, expected {expected}")]
    BadInput {
        /// The layer.
        layer: &'static str,
        /// What was expected, in words.
        expected: String,
        /// The shape given.
        found: Vec<usize>,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, LayerError>;

/// So that an sgbn layer can be called with `?` inside code that returns
/// `candle_core::Result` (a `Module::forward` of your own, say): a
/// candle error inside comes back as itself, anything else wrapped.
impl From<LayerError> for candle_core::Error {
    fn from(e: LayerError) -> Self {
        match e {
            LayerError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}
