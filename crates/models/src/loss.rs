//! The per-example cross-entropy: the loss that training minimizes and the
//! gradient attacks climb (one definition for `sgbn-defenses` and
//! `sgbn-attacks`).

use candle_core::{D, DType, Tensor};

use crate::{ModelError, Result};

/// Cross-entropy `−log softmax(z)_y` of each row of `logits` `(B, K)` at the
/// `labels` `(B,)` (any integer dtype): a `(B,)` tensor, differentiable in
/// `logits`.
///
/// Its `.mean(0)` has the value and the gradients of candle-nn's
/// `loss::cross_entropy` bit for bit (both scale by `1 / B` in one affine
/// op, and negation is exact).
///
/// # Errors
/// [`ModelError::ShapeMismatch`] when `logits` is not `(B, K)` with `labels`
/// `(B,)`.
pub fn cross_entropy_per_example(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let rows = match logits.dims() {
        [b, _] => *b,
        other => {
            return Err(ModelError::ShapeMismatch(format!(
                "logits must be (batch, classes), got {other:?}"
            )));
        }
    };
    if labels.dims() != [rows] {
        return Err(ModelError::ShapeMismatch(format!(
            "logits {:?} and labels {:?} disagree",
            logits.dims(),
            labels.dims()
        )));
    }
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp
        .gather(&labels.to_dtype(DType::U32)?.unsqueeze(1)?, 1)?
        .squeeze(1)?;
    Ok(picked.neg()?)
}
