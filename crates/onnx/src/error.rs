//! Errors of the ONNX crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong while reading or running an ONNX classifier. Every
/// variant names the file, node or value at fault.
#[derive(Debug, Error)]
pub enum OnnxError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model (not a `ModelProto`, or no graph).
    #[error("not an ONNX model: {0}")]
    NotOnnx(String),
    /// The graph uses an operator this crate does not implement.
    #[error(
        "node {node:?}: operator {op:?} is not supported (supported: {supported})",
        supported = crate::SUPPORTED_OPS.join(", ")
    )]
    UnsupportedOp {
        /// The node's name (or its index where unnamed).
        node: String,
        /// The operator, with its domain when not the default.
        op: String,
    },
    /// A supported operator with an attribute, input or shape this crate
    /// does not implement (`ceil_mode` 1, asymmetric strides, …) or that
    /// the ONNX specification does not allow.
    #[error("node {node:?} ({op}): {message}")]
    Node {
        /// The node's name.
        node: String,
        /// Its operator.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// The graph as a whole is not a classifier this crate can run (no
    /// image input, several inputs, a fixed batch size, output not
    /// `(batch, classes)`, …).
    #[error("{0}")]
    Graph(String),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, OnnxError>;

impl From<OnnxError> for sgbn_attacks::AttackError {
    fn from(e: OnnxError) -> Self {
        match e {
            OnnxError::Candle(inner) => sgbn_attacks::AttackError::Candle(inner),
            other => sgbn_attacks::AttackError::Other(Box::new(other)),
        }
    }
}
