//! MNIST from IDX files (raw or gzip), checksummed.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::{
    DataError, Dataset, Result,
    checksum::{Sha256Sums, sha256_hex, verify_sha256},
    idx::parse_idx_u8,
    raw_file::{find_file, read_maybe_gz},
};

/// The four MNIST files: canonical name, the dotted variant some mirrors use,
/// and the SHA-256 of the canonical (decompressed) contents.
pub const MNIST_FILES: [MnistFile; 4] = [
    MnistFile {
        name: "train-images-idx3-ubyte",
        alt_name: "train-images.idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    MnistFile {
        name: "train-labels-idx1-ubyte",
        alt_name: "train-labels.idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    MnistFile {
        name: "t10k-images-idx3-ubyte",
        alt_name: "t10k-images.idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    MnistFile {
        name: "t10k-labels-idx1-ubyte",
        alt_name: "t10k-labels.idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

/// One file of the MNIST distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    /// Canonical file name (without `.gz`).
    pub name: &'static str,
    /// Alternative name with a dot before `idx`.
    pub alt_name: &'static str,
    /// SHA-256 of the canonical decompressed contents.
    pub sha256: &'static str,
}

/// How MNIST files are verified before use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Checksums {
    /// A `SHA256SUMS` file in the directory if there is one, else the
    /// canonical MNIST digests.
    #[default]
    Auto,
    /// The canonical MNIST digests ([`MNIST_FILES`]).
    Canonical,
    /// The digests listed in this `SHA256SUMS` file.
    File(PathBuf),
    /// No verification (e.g. an IDX data set that is not MNIST). Digests are
    /// still computed and reported.
    Skip,
}

/// A file that was loaded, with the SHA-256 of its decompressed contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Where it was read.
    pub path: PathBuf,
    /// SHA-256 of the decompressed contents, lowercase hex.
    pub sha256: String,
}

/// MNIST: 60,000 training and 10,000 test images, `(N, 1, 28, 28)` f32 in
/// `[0, 1]`, with u32 labels in `0..10`.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// The training set.
    pub train: Dataset,
    /// The test set.
    pub test: Dataset,
    /// The files read, with their digests (empty for hub downloads).
    pub files: Vec<FileDigest>,
}

/// Loads MNIST from `dir` with [`Checksums::Auto`].
pub fn load_mnist(dir: &Path) -> Result<Mnist> {
    load_mnist_with(dir, &Checksums::Auto)
}

/// Loads MNIST from `dir` (files raw or `.gz`), verifying as `checksums` says.
pub fn load_mnist_with(dir: &Path, checksums: &Checksums) -> Result<Mnist> {
    if !dir.is_dir() {
        return Err(DataError::MissingFile {
            path: dir.to_path_buf(),
            tried: format!(
                "{} (a directory holding the MNIST IDX files)",
                dir.display()
            ),
        });
    }
    let sums = match checksums {
        Checksums::Auto => {
            let path = dir.join("SHA256SUMS");
            path.is_file()
                .then(|| Sha256Sums::read(&path))
                .transpose()?
        }
        Checksums::File(path) => Some(Sha256Sums::read(path)?),
        Checksums::Canonical | Checksums::Skip => None,
    };
    let mut files = Vec::new();
    let mut read = |file: &MnistFile| -> Result<(PathBuf, Vec<u8>)> {
        let path = find_file(dir, &[file.name, file.alt_name])?;
        let bytes = read_maybe_gz(&path)?;
        let digest = sha256_hex(&bytes);
        let expected = match (&sums, checksums) {
            (_, Checksums::Skip) => None,
            (Some(sums), _) => {
                Some(sums.get(&path).ok_or_else(|| DataError::NoChecksumListed {
                    path: path.clone(),
                    sums: sums.path().to_path_buf(),
                })?)
            }
            (None, _) => Some(file.sha256),
        };
        if let Some(expected) = expected {
            verify_sha256(&path, &bytes, expected)?;
        }
        files.push(FileDigest {
            path: path.clone(),
            sha256: digest,
        });
        Ok((path, bytes))
    };
    let train_images = read(&MNIST_FILES[0])?;
    let train_labels = read(&MNIST_FILES[1])?;
    let test_images = read(&MNIST_FILES[2])?;
    let test_labels = read(&MNIST_FILES[3])?;
    let train = mnist_split(train_images, train_labels)?;
    let test = mnist_split(test_images, test_labels)?;
    tracing::debug!(train = train.len(), test = test.len(), dir = %dir.display(), "loaded MNIST");
    Ok(Mnist { train, test, files })
}

fn mnist_split(images: (PathBuf, Vec<u8>), labels: (PathBuf, Vec<u8>)) -> Result<Dataset> {
    let (image_path, image_bytes) = images;
    let (label_path, label_bytes) = labels;
    let images = parse_idx_u8(&image_path, &image_bytes, 3)?;
    if images.dims[1..] != [28, 28] {
        return Err(DataError::BadDimensions {
            path: image_path,
            expected: "N × 28 × 28".into(),
            found: images.dims,
        });
    }
    let labels = parse_idx_u8(&label_path, &label_bytes, 1)?;
    let (n_images, n_labels) = (images.dims[0], labels.dims[0]);
    if n_images != n_labels {
        return Err(DataError::ImageLabelMismatch {
            images: image_path,
            n_images,
            labels: label_path,
            n_labels,
        });
    }
    let labels = checked_labels(&label_path, &labels.data, 10)?;
    let pixels: Vec<f32> = images.data.iter().map(|p| f32::from(*p) / 255.0).collect();
    let images = Tensor::from_vec(pixels, (n_images, 1, 28, 28), &Device::Cpu)?;
    let labels = Tensor::from_vec(labels, n_labels, &Device::Cpu)?;
    Dataset::new(images, labels, 10)
}

/// Labels as u32, each checked to be below `num_classes`.
pub(crate) fn checked_labels(path: &Path, raw: &[u8], num_classes: usize) -> Result<Vec<u32>> {
    raw.iter()
        .enumerate()
        .map(|(index, l)| {
            if usize::from(*l) < num_classes {
                Ok(u32::from(*l))
            } else {
                Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    label: u32::from(*l),
                    num_classes,
                })
            }
        })
        .collect()
}
