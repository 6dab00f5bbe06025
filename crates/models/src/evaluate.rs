//! Clean accuracy of a classifier on a labelled set.

use candle_core::{D, DType, Tensor};
use sgbn_estimators::SeededRng;

use crate::{Classifier, ForwardContext, ModelError, Result};

/// Correct predictions out of a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Accuracy {
    /// Correct predictions.
    pub correct: usize,
    /// Examples evaluated.
    pub total: usize,
}

impl Accuracy {
    /// The share of correct predictions in `[0, 1]` (0 for an empty set).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// Accuracy of `model` on `images` `(N, …)` with u32 `labels` `(N,)`, in
/// batches of `batch_size`, one forward pass each (stochastic models sample
/// from `rng`, in order).
pub fn accuracy(
    model: &dyn Classifier,
    images: &Tensor,
    labels: &Tensor,
    batch_size: usize,
    ctx: ForwardContext,
    rng: &mut SeededRng,
) -> Result<Accuracy> {
    let n = labels.dim(0)?;
    if images.dim(0)? != n || batch_size == 0 {
        return Err(ModelError::InvalidSpec(format!(
            "accuracy needs as many images ({}) as labels ({n}) and a batch size > 0",
            images.dim(0)?
        )));
    }
    let mut correct = 0usize;
    let mut start = 0;
    while start < n {
        let len = batch_size.min(n - start);
        let x = images.narrow(0, start, len)?;
        let y = labels.narrow(0, start, len)?;
        let logits = model.forward(&x, ctx, rng)?;
        let hits = logits
            .argmax(D::Minus1)?
            .eq(&y)?
            .to_dtype(DType::F32)?
            .sum_all()?;
        correct += hits.to_scalar::<f32>()? as usize;
        start += len;
    }
    Ok(Accuracy { correct, total: n })
}

/// How many rows of `logits` `(B, classes)` have their maximum at the u32
/// label in `labels` `(B,)`.
pub fn count_correct(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    let hits = logits
        .argmax(D::Minus1)?
        .eq(labels)?
        .to_dtype(DType::F32)?
        .sum_all()?;
    Ok(hits.to_scalar::<f32>()? as usize)
}
