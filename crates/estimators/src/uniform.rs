//! Uniform noise from a caller-owned generator.

use candle_core::{DType, Tensor};
use rand::Rng;

use crate::Result;

/// A tensor of the shape, dtype and device of `like`, filled with independent
/// draws `u ~ U[0, 1)` from `rng` (the `d` of eq. 2.11).
///
/// Values are drawn in row-major order, in `f64` for `f64` tensors and in `f32`
/// otherwise, so the same generator state always gives the same tensor.
pub fn uniform_like<R: Rng + ?Sized>(like: &Tensor, rng: &mut R) -> Result<Tensor> {
    let n = like.elem_count();
    let u = match like.dtype() {
        DType::F64 => {
            let v: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
            Tensor::from_vec(v, like.shape(), like.device())?
        }
        dtype => {
            let v: Vec<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
            Tensor::from_vec(v, like.shape(), like.device())?.to_dtype(dtype)?
        }
    };
    Ok(u)
}
