//! Confidence in the true class (Fig. 3.3).

use candle_core::{D, DType, Tensor};
use sgbn_attacks::Victim;
use sgbn_estimators::SeededRng;

use crate::{MetricsError, Result};

/// softmax(z)_y of one forward pass per example, in batches of `batch_size`.
pub fn true_class_confidence(
    victim: &dyn Victim,
    images: &Tensor,
    labels: &Tensor,
    batch_size: usize,
    rng: &mut SeededRng,
) -> Result<Vec<f64>> {
    let n = labels.dim(0)?;
    if batch_size == 0 || images.dim(0)? != n {
        return Err(MetricsError::InvalidArgument(format!(
            "{} images, {n} labels, batch size {batch_size}",
            images.dim(0)?
        )));
    }
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let len = batch_size.min(n - start);
        let x = images.narrow(0, start, len)?.detach();
        let y = labels.narrow(0, start, len)?;
        let p = candle_nn::ops::softmax(&victim.logits(&x, rng)?, D::Minus1)?;
        let picked = p.gather(&y.unsqueeze(1)?, 1)?.squeeze(1)?;
        out.extend(picked.to_dtype(DType::F64)?.to_vec1::<f64>()?);
        start += len;
    }
    Ok(out)
}
