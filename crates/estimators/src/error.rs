//! The error type of this crate.

/// Errors of the gradient estimators.
#[derive(Debug, thiserror::Error)]
pub enum EstimatorError {
    /// A tensor operation failed (shape, dtype or device problem).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// The slope `m` of a soft estimator must be finite and positive.
    #[error("invalid slope {0}: the slope of the logistic function must be finite and > 0")]
    InvalidSlope(f64),
    /// A configuration value is outside its valid range.
    #[error("invalid {name} {value}: {why}")]
    InvalidConfig {
        /// Name of the offending setting.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the valid range is.
        why: &'static str,
    },
    /// A per-example loss does not match the batch of the sampled units.
    #[error("per-example loss has shape {loss:?} but the sampled units have batch size {batch}")]
    LossShape {
        /// Shape of the loss tensor given.
        loss: Vec<usize>,
        /// Batch size (first dimension) of the sampled units.
        batch: usize,
    },
    /// The sampled units do not have the shape the baseline was built for.
    #[error("REINFORCE baseline holds {expected} units per example but the sample has {found}")]
    BaselineShape {
        /// Units per example the baseline tracks.
        expected: usize,
        /// Units per example in the sample.
        found: usize,
    },
    /// The per-example loss contains NaN or infinity.
    #[error("per-example loss is not finite ({0}): refusing to update the REINFORCE baseline")]
    NonFiniteLoss(f64),
    /// Some parameters got no gradient, or a non-finite one.
    #[error("parameters without a usable gradient: missing {missing:?}, non-finite {non_finite:?}")]
    IncompleteGradients {
        /// Parameters for which backprop returned no gradient.
        missing: Vec<String>,
        /// Parameters whose gradient contains NaN or infinity.
        non_finite: Vec<String>,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, EstimatorError>;

/// So that an sgbn estimator can be called with `?` inside code that returns
/// `candle_core::Result` (a `Module::forward` of your own, say): a
/// candle error inside comes back as itself, anything else wrapped.
impl From<EstimatorError> for candle_core::Error {
    fn from(e: EstimatorError) -> Self {
        match e {
            EstimatorError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}
