//! The error type of this crate.

use std::path::PathBuf;

/// Errors of the evaluation protocol and the experiments.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Loading or slicing data failed.
    #[error(transparent)]
    Data(Box<sgbn_data::DataError>),
    /// Building, running or loading a model failed.
    #[error(transparent)]
    Model(Box<sgbn_models::ModelError>),
    /// An attack failed or was configured wrongly.
    #[error(transparent)]
    Attack(Box<sgbn_attacks::AttackError>),
    /// Training failed.
    #[error(transparent)]
    Train(Box<sgbn_defenses::TrainError>),
    /// A metric failed.
    #[error(transparent)]
    Metrics(Box<sgbn_metrics::MetricsError>),
    /// A value could not be (de)serialized.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A file of the thesis's numbers could not be read.
    #[error("{path}: {reason}")]
    ThesisData {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No profile has this name.
    #[error("unknown profile {0:?} (smoke, quick, thesis-budget, full)")]
    UnknownProfile(String),
    /// No experiment has this id.
    #[error("unknown experiment {id:?}; known: {known}")]
    UnknownExperiment {
        /// The id given.
        id: String,
        /// The known ids, comma-separated.
        known: String,
    },
    /// A figure that cannot be drawn (an image whose pixels do not fill it,
    /// a size the image format cannot hold, an encoder error).
    #[error("drawing a figure: {0}")]
    Draw(String),
    /// A configuration value that cannot work, named.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, EvalError>;

/// Boxed conversions: the errors of the crates below are large, and boxing
/// keeps `Result` small.
macro_rules! boxed_from {
    ($($variant:ident: $error:ty),* $(,)?) => {
        $(impl From<$error> for EvalError {
            fn from(e: $error) -> Self {
                Self::$variant(Box::new(e))
            }
        })*
    };
}

boxed_from!(
    Data: sgbn_data::DataError,
    Model: sgbn_models::ModelError,
    Attack: sgbn_attacks::AttackError,
    Train: sgbn_defenses::TrainError,
    Metrics: sgbn_metrics::MetricsError,
);
