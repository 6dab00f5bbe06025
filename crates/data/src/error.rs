//! The error type of this crate.

use std::path::PathBuf;

/// Errors of the data loaders. Every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file the loader needs does not exist.
    #[error("missing file {path} (looked for: {tried})")]
    MissingFile {
        /// The file (first name tried).
        path: PathBuf,
        /// Every name that was tried, comma-separated.
        tried: String,
    },
    /// A data file's name is taken by something that is not a regular
    /// file (a directory, a device).
    #[error("{path} is {kind}, not a data file: the loader needs a regular file under this name")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead ("a directory", …).
        kind: &'static str,
    },
    /// A gzip stream is corrupt.
    #[error("{path} is not a valid gzip stream: {source}")]
    Decompress {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// The file does not start with the expected magic number.
    #[error("{path}: wrong magic number {found:#010x}, expected {expected:#010x}")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number for this kind of file.
        expected: u32,
        /// What the file holds.
        found: u32,
    },
    /// The file ends before its header or payload does.
    #[error("{path} is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header announces (header included).
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The payload is longer than the header's item count says.
    #[error(
        "{path}: header announces {header_count} items ({expected} bytes) but the file has {found} bytes"
    )]
    CountMismatch {
        /// The file.
        path: PathBuf,
        /// Item count in the header.
        header_count: usize,
        /// Bytes the header announces (header included).
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The dimensions in a header are not those of the data set.
    #[error("{path}: dimensions {found:?}, expected {expected}")]
    BadDimensions {
        /// The file.
        path: PathBuf,
        /// What was expected, in words.
        expected: String,
        /// The dimensions read.
        found: Vec<usize>,
    },
    /// The decompressed contents do not have the expected SHA-256.
    #[error("{path}: checksum mismatch: SHA-256 {found}, expected {expected}")]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The expected hex digest.
        expected: String,
        /// The hex digest of the contents.
        found: String,
    },
    /// A SHA256SUMS file has no entry for a file it is meant to verify.
    #[error("{sums} lists no checksum for {path}")]
    NoChecksumListed {
        /// The file to verify.
        path: PathBuf,
        /// The SHA256SUMS file.
        sums: PathBuf,
    },
    /// A SHA256SUMS file is malformed.
    #[error("{path}, line {line}: not a `<sha256 hex>  <file name>` line")]
    BadChecksumFile {
        /// The SHA256SUMS file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A label is not a valid class index.
    #[error("{path}: label {label} at index {index} is out of range (0..{num_classes})")]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Position of the bad label.
        index: usize,
        /// The label value.
        label: u32,
        /// Number of classes.
        num_classes: usize,
    },
    /// Image and label files disagree on the number of examples.
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    ImageLabelMismatch {
        /// The image file.
        images: PathBuf,
        /// Number of images.
        n_images: usize,
        /// The label file.
        labels: PathBuf,
        /// Number of labels.
        n_labels: usize,
    },
    /// An image could not be decoded, or does not match the others.
    #[error("{path}: {reason}")]
    BadImage {
        /// The image file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An argument is outside its valid range (a subset larger than the
    /// data set, a batch size of zero, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, DataError>;
