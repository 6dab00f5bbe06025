//! Hugging Face hub loaders (feature `hub`, online): candle-datasets'
//! downloads converted into this crate's types.
//!
//! These are **not** checksummed against the canonical files: the hub serves
//! parquet conversions. Prefer the vendored, verified IDX files for results.

use candle_core::DType;

use crate::{Cifar10, Dataset, Mnist, Result};

fn convert(
    images: &candle_core::Tensor,
    labels: &candle_core::Tensor,
    shape: (usize, usize, usize),
) -> Result<Dataset> {
    let n = images.dims()[0];
    let images = images
        .to_dtype(DType::F32)?
        .reshape((n, shape.0, shape.1, shape.2))?;
    Dataset::new(images, labels.to_dtype(DType::U32)?, 10)
}

/// Downloads MNIST (`ylecun/mnist`) through candle-datasets.
pub fn load_mnist_from_hub() -> Result<Mnist> {
    let d = candle_datasets::vision::mnist::load()?;
    Ok(Mnist {
        train: convert(&d.train_images, &d.train_labels, (1, 28, 28))?,
        test: convert(&d.test_images, &d.test_labels, (1, 28, 28))?,
        files: Vec::new(),
    })
}

/// Downloads CIFAR-10 (`cifar10`) through candle-datasets.
pub fn load_cifar10_from_hub() -> Result<Cifar10> {
    let d = candle_datasets::vision::cifar::load()?;
    Ok(Cifar10 {
        train: convert(&d.train_images, &d.train_labels, (3, 32, 32))?,
        test: convert(&d.test_images, &d.test_labels, (3, 32, 32))?,
    })
}
