//! Per-example losses the attacks climb or descend.

use candle_core::{D, DType, Tensor};

use crate::{AttackError, Result};

/// Cross-entropy `−log softmax(z)_y` of each row of `logits` `(B, K)` at the
/// u32 `labels` `(B,)`: a `(B,)` tensor, differentiable in `logits`.
pub fn cross_entropy_per_example(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    check(logits, labels)?;
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp
        .gather(&labels.to_dtype(DType::U32)?.unsqueeze(1)?, 1)?
        .squeeze(1)?;
    Ok(picked.neg()?)
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

fn check(logits: &Tensor, labels: &Tensor) -> Result<()> {
    let (b, _) = logits.dims2()?;
    if labels.dims() != [b] {
        return Err(AttackError::InvalidInput(format!(
            "logits {:?} and labels {:?} disagree",
            logits.dims(),
            labels.dims()
        )));
    }
    Ok(())
}
