//! The error type of this crate.

/// Errors of training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A model or checkpoint operation failed.
    #[error(transparent)]
    Model(#[from] sgbn_models::ModelError),
    /// A data operation failed.
    #[error(transparent)]
    Data(#[from] sgbn_data::DataError),
    /// An estimator failed.
    #[error(transparent)]
    Estimator(#[from] sgbn_estimators::EstimatorError),
    /// The loss became NaN or infinite; the last good checkpoint is kept.
    #[error(
        "non-finite loss {value} at epoch {epoch}, batch {batch} with learning rate {lr:?} \
         (a smaller one may train): training stopped, the last good checkpoint is kept"
    )]
    NonFiniteLoss {
        /// Epoch (0-based).
        epoch: usize,
        /// Batch within the epoch (0-based).
        batch: usize,
        /// The loss value.
        value: f64,
        /// Adam's learning rate of the run.
        lr: f64,
    },
    /// A checkpoint's metadata entry cannot be read as what it must be.
    #[error("checkpoint {path}: metadata {key} = {value:?} is not {what}")]
    BadMetadata {
        /// The checkpoint.
        path: std::path::PathBuf,
        /// The metadata key.
        key: String,
        /// Its value (as stored).
        value: String,
        /// What it must be.
        what: String,
    },
    /// A training batch holds NaN or infinite pixels. (ReLU maps NaN to 0, so
    /// such inputs would otherwise train on garbage without a trace.)
    #[error(
        "non-finite input in epoch {epoch}, batch {batch}: training stopped, the last good checkpoint is kept"
    )]
    NonFiniteInput {
        /// Epoch (0-based).
        epoch: usize,
        /// Batch within the epoch (0-based).
        batch: usize,
    },
    /// The observer asked to stop; no checkpoint was written for the
    /// unfinished epoch, so a re-run resumes from the last finished one.
    #[error("training interrupted at epoch {epoch}, batch {batch}")]
    Interrupted {
        /// Epoch (0-based).
        epoch: usize,
        /// Batch within the epoch (0-based).
        batch: usize,
    },
    /// A training setting is outside its valid range.
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
    /// A checkpoint to resume from belongs to another run.
    #[error("cannot resume from {path}: {reason}")]
    ResumeMismatch {
        /// The checkpoint.
        path: std::path::PathBuf,
        /// Why it does not fit.
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, TrainError>;
