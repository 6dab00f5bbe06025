//! # sgbn-data
//!
//! Data sets for sgbn, as candle tensors, with every input checked:
//!
//! - [`load_mnist`]: MNIST from IDX files (raw or gzip), SHA-256 verified,
//!   images `(N, 1, 28, 28)` f32 in `[0, 1]`, labels `(N,)` u32. The
//!   repository vendors the four files under `data/mnist/`
//!   ([`vendored_mnist_dir`]); [`resolve_mnist_dir`] applies `--data-dir`
//!   and `SGBN_DATA_DIR`.
//! - [`load_cifar10_binary`]: the official CIFAR-10 binary version,
//!   `(N, 3, 32, 32)`.
//! - `load_image_folder` / `load_cifar10_jpeg` (feature `image-folder`, on
//!   by default): class-per-folder PNG/JPEG sets, such as the **lossy**
//!   CIFAR-10 JPEG stand-in.
//! - `hub` (feature `hub`, off by default, online): candle-datasets' Hugging
//!   Face loaders converted into these types.
//! - [`MiniBatches`]: seeded mini-batch order, reshuffled each epoch,
//!   resumable at any batch; [`Dataset::first`], [`Dataset::class_balanced`]
//!   and [`Dataset::split_validation`] for deterministic subsets.
//! - [`ToyRegression`]: the toy set of thesis §4.6.5.
//!
//! Bad input (missing or truncated files, wrong magic numbers, checksum
//! mismatches, labels out of range, …) is a [`DataError`] naming the file,
//! never a panic.
//!
//! ## Quick start
//!
//! ```
//! // `$SGBN_DATA_DIR`, else the MNIST copy vendored in the repository (a
//! // package does not ship it); its SHA-256 digests are checked on load.
//! let Some(dir) = sgbn_data::available_mnist_dir() else {
//!     eprintln!("no MNIST here: set SGBN_DATA_DIR to a folder holding it");
//!     return Ok(());
//! };
//! let mnist = sgbn_data::load_mnist(&dir)?;
//! assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
//! let first = mnist.train.first(100)?; // the first 100 training images
//! assert_eq!(first.images().dims(), [100, 1, 28, 28]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod checksum;
mod cifar10;
#[cfg(feature = "image-folder")]
mod cifar10_jpeg_archive;
#[cfg(feature = "image-folder")]
mod cifar10_source;
mod data_dir;
mod dataset;
mod error;
#[cfg(feature = "hub")]
pub mod hub;
mod idx;
#[cfg(feature = "image-folder")]
mod image_folder;
mod mini_batches;
mod mnist;
mod raw_file;
mod subsets;
mod toy_regression;

pub use checksum::{Sha256Sums, sha256_hex, verify_sha256};
pub use cifar10::{
    CIFAR10_CLASSES, CIFAR10_RECORD_BYTES, Cifar10, load_cifar10_binary, parse_cifar10_batch,
    read_cifar10_batch,
};
#[cfg(feature = "image-folder")]
pub use cifar10_jpeg_archive::{
    CIFAR10_JPEG_ARCHIVE, CIFAR10_JPEG_ARCHIVE_SHA256, load_cifar10_jpeg_archive,
    parse_cifar10_jpeg_archive,
};
#[cfg(feature = "image-folder")]
pub use cifar10_source::{
    CIFAR10_JPEG_ENV, CIFAR10_JPEG_ORDER, Cifar10Data, Cifar10Kind, load_cifar10_for,
    load_cifar10_from, shared_cifar10_jpeg_archive,
};
pub use data_dir::{
    DATA_DIR_ENV, available_mnist_dir, available_mnist_dir_from, resolve_mnist_dir,
    resolve_mnist_dir_from, source_repository, vendored_mnist_dir,
};
pub use dataset::Dataset;
pub use error::{DataError, Result};
pub use idx::{IDX_UBYTE, IdxArray, parse_idx_u8};
#[cfg(feature = "image-folder")]
pub use image_folder::{ImageFolder, ImageFolderConfig, load_cifar10_jpeg, load_image_folder};
pub use mini_batches::MiniBatches;
pub use mnist::{
    Checksums, FileDigest, MNIST_FILES, Mnist, MnistFile, load_mnist, load_mnist_with,
};
pub use raw_file::{MAX_DECOMPRESSED, maybe_gunzip, read_maybe_gz};
pub use toy_regression::ToyRegression;
