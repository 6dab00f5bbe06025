//! CIFAR-10, official binary version.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::{
    DataError, Dataset, Result,
    mnist::checked_labels,
    raw_file::{find_file, read_maybe_gz},
};

/// CIFAR-10 class names; the index is the label.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Bytes per record of the binary version: 1 label byte, then 32×32 pixels
/// of the red, green and blue planes.
pub const CIFAR10_RECORD_BYTES: usize = 1 + 3 * 32 * 32;

/// CIFAR-10: 50,000 training and 10,000 test images, `(N, 3, 32, 32)` f32 in
/// `[0, 1]`, with u32 labels in `0..10`.
#[derive(Debug, Clone)]
pub struct Cifar10 {
    /// The training set.
    pub train: Dataset,
    /// The test set.
    pub test: Dataset,
}

/// Reads one binary batch file (`data_batch_K.bin`, `test_batch.bin`).
pub fn read_cifar10_batch(path: &Path) -> Result<Dataset> {
    parse_cifar10_batch(path, &read_maybe_gz(path)?)
}

/// Parses the (decompressed) contents `bytes` of one binary batch file;
/// `path` names it in errors. Records of 3,073 bytes: a label in 0..10,
/// then 1,024 red, green and blue pixels each.
pub fn parse_cifar10_batch(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(CIFAR10_RECORD_BYTES) {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: bytes.len().div_ceil(CIFAR10_RECORD_BYTES).max(1) * CIFAR10_RECORD_BYTES,
            found: bytes.len(),
        });
    }
    let n = bytes.len() / CIFAR10_RECORD_BYTES;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * (CIFAR10_RECORD_BYTES - 1));
    for record in bytes.chunks_exact(CIFAR10_RECORD_BYTES) {
        labels.push(record[0]);
        pixels.extend(record[1..].iter().map(|p| f32::from(*p) / 255.0));
    }
    let labels = checked_labels(path, &labels, 10)?;
    let images = Tensor::from_vec(pixels, (n, 3, 32, 32), &Device::Cpu)?;
    Dataset::new(images, Tensor::from_vec(labels, n, &Device::Cpu)?, 10)
}

/// Loads the official binary CIFAR-10 from `dir` (or its
/// `cifar-10-batches-bin/` subfolder): `data_batch_1.bin` … `data_batch_5.bin`
/// and `test_batch.bin`, each verified against a `SHA256SUMS` file in the
/// folder when there is one (digests of the decompressed files).
pub fn load_cifar10_binary(dir: &Path) -> Result<Cifar10> {
    let nested = dir.join("cifar-10-batches-bin");
    let dir = if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    };
    // No digests of the extracted files are published (docs/data.md): a
    // `SHA256SUMS` the user made from a trusted copy is checked when present.
    let sums_path = dir.join("SHA256SUMS");
    let sums = if sums_path.is_file() {
        Some(crate::Sha256Sums::read(&sums_path)?)
    } else {
        None
    };
    let read = |path: PathBuf| -> Result<Dataset> {
        let bytes = read_maybe_gz(&path)?;
        if let Some(sums) = &sums {
            let expected = sums.get(&path).ok_or_else(|| DataError::NoChecksumListed {
                path: path.clone(),
                sums: sums.path().to_path_buf(),
            })?;
            crate::verify_sha256(&path, &bytes, expected)?;
        }
        parse_cifar10_batch(&path, &bytes)
    };
    let mut train_images = Vec::new();
    let mut train_labels = Vec::new();
    for k in 1..=5 {
        let batch = read(find_file(&dir, &[&format!("data_batch_{k}.bin")])?)?;
        train_images.push(batch.images().clone());
        train_labels.push(batch.labels().clone());
    }
    let train = Dataset::new(
        Tensor::cat(&train_images, 0)?,
        Tensor::cat(&train_labels, 0)?,
        10,
    )?;
    let test = read(find_file(&dir, &["test_batch.bin"])?)?;
    Ok(Cifar10 { train, test })
}
