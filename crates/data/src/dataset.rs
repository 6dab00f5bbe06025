//! A labelled image data set held as candle tensors.

use candle_core::{DType, Device, Tensor};

use crate::{DataError, Result};

/// Images `(N, C, H, W)` (f32 in `[0, 1]` for the loaders of this crate) and
/// labels `(N,)` (u32 class indices below `num_classes`).
#[derive(Debug, Clone)]
pub struct Dataset {
    images: Tensor,
    labels: Tensor,
    num_classes: usize,
}

impl Dataset {
    /// Checks that the first dimensions agree, that labels are a rank-1 u32
    /// tensor and that every label is below `num_classes`.
    pub fn new(images: Tensor, labels: Tensor, num_classes: usize) -> Result<Self> {
        if labels.rank() != 1 || labels.dtype() != DType::U32 {
            return Err(DataError::InvalidArgument(format!(
                "labels must be a rank-1 u32 tensor, got {:?} {:?}",
                labels.dtype(),
                labels.dims()
            )));
        }
        let n = labels.dims()[0];
        if images.rank() == 0 || images.dims()[0] != n {
            return Err(DataError::InvalidArgument(format!(
                "{n} labels for images of shape {:?}",
                images.dims()
            )));
        }
        if let Some((index, label)) = labels
            .to_vec1::<u32>()?
            .into_iter()
            .enumerate()
            .find(|(_, l)| *l as usize >= num_classes)
        {
            return Err(DataError::InvalidArgument(format!(
                "label {label} at index {index} is not below the {num_classes} classes"
            )));
        }
        Ok(Self {
            images,
            labels,
            num_classes,
        })
    }

    /// The images, `(N, …)`.
    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// The labels, `(N,)` u32.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The labels copied to the host.
    pub fn label_vec(&self) -> Result<Vec<u32>> {
        Ok(self.labels.to_vec1::<u32>()?)
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.dims()[0]
    }

    /// Whether the data set holds no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        if let Some(bad) = indices.iter().find(|i| **i >= self.len()) {
            return Err(DataError::InvalidArgument(format!(
                "index {bad} out of range for a data set of {} examples",
                self.len()
            )));
        }
        let idx: Vec<u32> = indices.iter().map(|i| *i as u32).collect();
        let idx = Tensor::from_vec(idx, indices.len(), self.images.device())?;
        Ok(Self {
            images: self.images.index_select(&idx, 0)?,
            labels: self.labels.index_select(&idx, 0)?,
            num_classes: self.num_classes,
        })
    }

    /// `(images, labels)` of the examples at `indices`: one mini-batch.
    pub fn batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let subset = self.select(indices)?;
        Ok((subset.images, subset.labels))
    }

    /// The same data on `device`.
    pub fn to_device(&self, device: &Device) -> Result<Self> {
        Ok(Self {
            images: self.images.to_device(device)?,
            labels: self.labels.to_device(device)?,
            num_classes: self.num_classes,
        })
    }
}
