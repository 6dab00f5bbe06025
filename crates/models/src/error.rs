//! The error type of this crate.

use std::path::PathBuf;

/// Errors of the models and their checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A layer failed.
    #[error(transparent)]
    Layer(#[from] sgbn_layers::LayerError),
    /// An estimator failed.
    #[error(transparent)]
    Estimator(#[from] sgbn_estimators::EstimatorError),
    /// No model has this name.
    #[error("unknown model {name:?}; known models: {known}")]
    UnknownModel {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// Tensors whose shapes do not fit together (logits and labels).
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A spec whose values cannot build a model.
    #[error("invalid model spec: {0}")]
    InvalidSpec(String),
    /// A checkpoint file could not be read or written.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint file is not a valid sgbn checkpoint.
    #[error("checkpoint {path}: {reason}")]
    BadCheckpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint holds another model than the one asked for.
    #[error("checkpoint {path} holds model {found:?}, not {expected:?} ({difference})")]
    SpecMismatch {
        /// The file.
        path: PathBuf,
        /// The spec asked for (name).
        expected: String,
        /// The spec in the file (name).
        found: String,
        /// The fields that differ, `field: file → asked`.
        difference: String,
    },
    /// A tensor of the model is missing from a checkpoint.
    #[error("checkpoint {path} lacks tensor {name}")]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The parameter.
        name: String,
    },
    /// A checkpoint tensor has the wrong shape.
    #[error("checkpoint {path}: tensor {name} has shape {found:?}, the model needs {expected:?}")]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The parameter.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A checkpoint tensor has another dtype than the model's variable.
    #[error("checkpoint {path}: tensor {name} is {found}, the model needs {expected}")]
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The parameter.
        name: String,
        /// The model's dtype.
        expected: String,
        /// The file's dtype.
        found: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

/// So that an sgbn model can be called with `?` inside code that returns
/// `candle_core::Result` (a `Module::forward` of your own, say): a
/// candle error inside comes back as itself, anything else wrapped.
impl From<ModelError> for candle_core::Error {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}
