//! Per-example losses the attacks climb or descend.

use candle_core::{DType, Tensor};

use crate::{AttackError, Result};

/// Cross-entropy `−log softmax(z)_y` of each row of `logits` `(B, K)` at the
/// u32 `labels` `(B,)`: a `(B,)` tensor, differentiable in `logits`. The
/// same function training minimizes
/// ([`sgbn_models::cross_entropy_per_example`]); here its shape errors are
/// [`AttackError::InvalidInput`].
pub fn cross_entropy_per_example(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    sgbn_models::cross_entropy_per_example(logits, labels).map_err(|e| match e {
        sgbn_models::ModelError::ShapeMismatch(m) => AttackError::InvalidInput(m),
        other => other.into(),
    })
}

/// The margin `z_y − max_{j≠y} z_j` of each row of `logits` `(B, K)` (f32
/// values on the host): positive while class `y` wins, ≤ 0 once another class
/// ties or wins. The Square attack minimises it (Andriushchenko et al. 2020).
pub fn margins(logits: &Tensor, labels: &[u32]) -> Result<Vec<f32>> {
    let rows = logits.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    if rows.len() != labels.len() {
        return Err(AttackError::InvalidInput(format!(
            "{} logit rows for {} labels",
            rows.len(),
            labels.len()
        )));
    }
    rows.iter()
        .zip(labels)
        .map(|(row, &y)| {
            let y = y as usize;
            if y >= row.len() {
                return Err(AttackError::InvalidInput(format!(
                    "label {y} out of range for {} classes",
                    row.len()
                )));
            }
            let other = row
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != y)
                .map(|(_, &z)| z)
                .fold(f32::NEG_INFINITY, f32::max);
            Ok(row[y] - other)
        })
        .collect()
}
