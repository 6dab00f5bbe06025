//! Stochastic activation pruning (Dhillon et al. 2018; thesis eq. 2.23–2.25).

use candle_core::{DType, Tensor};
use rand::Rng;

use crate::{LayerError, Result};

/// SAP on activations `h` `(B, …)`, per sample (the reference kernel):
///
/// - `p_i = |h_i| / Σ_j |h_j|` over the sample's units (eq. 2.23);
/// - draw `k` = number of units indices **with replacement** from `p`;
/// - keep each drawn unit, scaled by `1 / (1 − (1 − p_i)^k)` (its probability
///   of being drawn at least once), and zero the rest (eq. 2.24–2.25).
///
/// The scaling makes the output unbiased: `E[out_i] = h_i`. The mask and
/// scale are constants for autograd: the gradient reaches kept units times
/// their scale. A sample whose activations are all zero stays zero. Draws
/// come from `rng`, sample by sample, in order.
pub fn stochastic_activation_pruning<R: Rng + ?Sized>(h: &Tensor, rng: &mut R) -> Result<Tensor> {
    if h.rank() < 2 {
        return Err(LayerError::BadInput {
            layer: "SAP",
            expected: "(B, …) with at least one unit per sample".into(),
            found: h.dims().to_vec(),
        });
    }
    let b = h.dim(0)?;
    let n = h.elem_count() / b.max(1);
    let values = h
        .detach()
        .flatten_all()?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?;
    let mut factor = vec![0f64; values.len()];
    let mut cdf = vec![0f64; n];
    let mut counts = vec![0u32; n];
    for s in 0..b {
        let row = &values[s * n..(s + 1) * n];
        let mut total = 0.0;
        for (c, v) in cdf.iter_mut().zip(row) {
            total += v.abs();
            *c = total;
        }
        if total == 0.0 || !total.is_finite() {
            continue;
        }
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            let u = rng.random::<f64>() * total;
            // First index whose cumulative mass exceeds u (units of zero
            // mass are never drawn).
            let i = cdf.partition_point(|c| *c <= u).min(n - 1);
            counts[i] += 1;
        }
        let k = n as f64;
        for i in 0..n {
            if counts[i] > 0 {
                let p = row[i].abs() / total;
                // 1 − (1 − p)^k, accurate for small p.
                let drawn = -(k * (-p).ln_1p()).exp_m1();
                factor[s * n + i] = 1.0 / drawn;
            }
        }
    }
    let factor = Tensor::from_vec(factor, h.shape(), h.device())?.to_dtype(h.dtype())?;
    Ok(h.mul(&factor)?)
}
