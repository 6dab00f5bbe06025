//! ReLU as one CPU op forward and one backward.
//!
//! candle's `relu` backward makes four tensor ops (a tensor of zeros, the
//! comparison `x ≥ 0` into bytes, its conversion back to floats, the
//! product with the gradient), the comparison single-threaded: about 10 % of
//! the CNN's training step. Here the backward is one pass, `dx = dy` where
//! `x ≥ 0` and 0 elsewhere: the same function and the same gradient as
//! candle's (1 at `x = 0`; 0 at NaN).

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::kernels::cpu_kernel::{CpuKernel, no_backward_cpu_op, run_cpu_kernel};
use crate::kernels::element::Element;

/// Elements per parallel chunk: below, one thread does the pass.
const CHUNK: usize = 32 * 1024;

/// `max(x, 0)` element-wise, as `x.relu()`, with a one-pass backward on the
/// CPU in f32 and f64 (see the module documentation); `x.relu()` on other
/// devices and dtypes.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64) {
        x.apply_op1(Relu)
    } else {
        x.relu()
    }
}

/// `y = max(x, 0)`.
struct Relu;

impl CpuKernel for Relu {
    const NAME: &'static str = "sgbn-relu";

    fn run<T: Element + candle_core::WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let x = inputs[0];
        let mut y = vec![T::default(); x.len()];
        y.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    *y = x.relu();
                }
            });
        Ok((y, layouts[0].shape().clone()))
    }
}

impl CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        run_cpu_kernel(self, &[(s, l)])
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            x.contiguous()?
                .apply_op2_no_bwd(&dy.contiguous()?, &ReluGrad)?,
        ))
    }
}

/// `(x, dy) ↦ dy` where `x ≥ 0`, 0 elsewhere.
struct ReluGrad;

impl CpuKernel for ReluGrad {
    const NAME: &'static str = "sgbn-relu-grad";

    fn run<T: Element + candle_core::WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let (x, dy) = (inputs[0], inputs[1]);
        if x.len() != dy.len() {
            candle_core::bail!("{}: {} inputs, {} gradients", Self::NAME, x.len(), dy.len());
        }
        let mut dx = vec![T::default(); x.len()];
        dx.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(dy.par_chunks(CHUNK)))
            .for_each(|(dx, (x, dy))| {
                for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
                    *dx = if x >= T::default() { dy } else { T::default() };
                }
            });
        Ok((dx, layouts[0].shape().clone()))
    }
}

no_backward_cpu_op!(ReluGrad, 2);

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    /// Values with both signs, zeros of both signs and a NaN.
    /// More than two parallel chunks, the last one partial.
    fn input(dtype: DType) -> Result<Tensor> {
        let mut v: Vec<f64> = (0..2 * CHUNK + 1001)
            .map(|i| ((i * 7919) % 1000) as f64 / 100.0 - 5.0)
            .collect();
        v[3] = 0.0;
        v[4] = -0.0;
        v[5] = f64::NAN;
        let n = v.len();
        Tensor::from_vec(v, n, &Device::Cpu)?.to_dtype(dtype)
    }

    #[test]
    fn forward_and_gradient_match_candle() -> Result<()> {
        for dtype in [DType::F32, DType::F64] {
            let x = Var::from_tensor(&input(dtype)?)?;
            let w = Tensor::arange(0.0, x.elem_count() as f64, &Device::Cpu)?
                .to_dtype(dtype)?
                .reshape(x.shape())?;
            let ours = relu(x.as_tensor())?;
            let theirs = x.as_tensor().relu()?;
            let (a, b) = (
                ours.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?,
                theirs
                    .flatten_all()?
                    .to_dtype(DType::F64)?
                    .to_vec1::<f64>()?,
            );
            assert_eq!(a.len(), b.len());
            for (i, (a, b)) in a.iter().zip(&b).enumerate() {
                assert!(
                    a == b || (a.is_nan() && b.is_nan()),
                    "{dtype:?} y[{i}]: {a} vs {b}"
                );
            }
            // A weighted sum, so that every element's gradient is distinct.
            let g_ours = (ours * &w)?.sum_all()?.backward()?;
            let g_theirs = (theirs * &w)?.sum_all()?.backward()?;
            let (a, b) = (
                g_ours
                    .get(&x)
                    .expect("gradient")
                    .flatten_all()?
                    .to_dtype(DType::F64)?
                    .to_vec1::<f64>()?,
                g_theirs
                    .get(&x)
                    .expect("gradient")
                    .flatten_all()?
                    .to_dtype(DType::F64)?
                    .to_vec1::<f64>()?,
            );
            assert_eq!(a, b, "{dtype:?} gradient");
            // The gradient passes where x ≥ 0 (x = 0 and −0 included) only.
            assert_eq!(a[3], 3.0);
            assert_eq!(a[4], 4.0);
            assert_eq!(a[5], 0.0);
        }
        Ok(())
    }

    #[test]
    fn other_dtypes_take_candles_path() -> Result<()> {
        let x = Tensor::new(&[-2i64, 0, 3], &Device::Cpu)?;
        assert_eq!(relu(&x)?.to_vec1::<i64>()?, vec![0, 0, 3]);
        Ok(())
    }
}
