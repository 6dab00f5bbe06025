//! Identity forward, clipped backward: Galloway et al.'s `QuantizeGrad`.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, backend::BackendStorage, bail};

use crate::{EstimatorError, Result};

/// The identity whose backward pass clips the upstream gradient to
/// `[−bound, bound]` element by element.
///
/// This is the gradient override of the BNN code the thesis used for its
/// BNN rows (Galloway et al. 2018, `QuantizeGrad`:
/// `tf.clip_by_value(grad, −1, 1)`), which differs from the htanh STE of
/// eq. 2.21 (`g · 1[|r| ≤ 1]`): it bounds the gradient instead of cancelling
/// it where `|r| > 1`. CPU only (other devices get an error).
pub fn clip_gradient(x: &Tensor, bound: f64) -> Result<Tensor> {
    if !(bound.is_finite() && bound > 0.0) {
        return Err(EstimatorError::InvalidConfig {
            name: "gradient clip bound",
            value: bound,
            why: "must be finite and > 0",
        });
    }
    Ok(x.contiguous()?.apply_op1(ClipGradient { bound })?)
}

struct ClipGradient {
    bound: f64,
}

fn copy_contiguous<T: Copy>(v: &[T], l: &Layout) -> candle_core::Result<Vec<T>> {
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(v[start..end].to_vec()),
        None => bail!("clip-gradient: input must be contiguous"),
    }
}

impl CustomOp1 for ClipGradient {
    fn name(&self) -> &'static str {
        "clip-gradient"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match s {
            CpuStorage::F32(v) => CpuStorage::F32(copy_contiguous(v, l)?),
            CpuStorage::F64(v) => CpuStorage::F64(copy_contiguous(v, l)?),
            other => bail!("clip-gradient: f32 or f64 only, got {:?}", other.dtype()),
        };
        Ok((out, l.shape().clone()))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad.clamp(-self.bound, self.bound)?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    #[test]
    fn forward_is_identity_and_backward_clips_the_upstream_gradient() {
        let x = Var::new(&[0.5f32, -2.0, 3.0, 0.0], &Device::Cpu).expect("test");
        let y = clip_gradient(x.as_tensor(), 1.0).expect("test");
        assert_eq!(
            y.to_vec1::<f32>().expect("test"),
            x.as_tensor().to_vec1::<f32>().expect("test")
        );
        // Upstream gradient = the coefficients: 3, −0.5, −4, 1.
        let c = Tensor::new(&[3.0f32, -0.5, -4.0, 1.0], &Device::Cpu).expect("test");
        let g = (y * c)
            .expect("test")
            .sum_all()
            .expect("test")
            .backward()
            .expect("test");
        let gx = g
            .get(x.as_tensor())
            .expect("test")
            .to_vec1::<f32>()
            .expect("test");
        assert_eq!(gx, vec![1.0, -0.5, -1.0, 1.0]);
    }

    #[test]
    fn a_bad_bound_is_an_error() {
        let x = Tensor::new(&[1.0f32], &Device::Cpu).expect("test");
        for b in [0.0, -1.0, f64::NAN] {
            let e = clip_gradient(&x, b).expect_err("bad bound");
            assert!(e.to_string().contains("clip bound"), "{e}");
        }
    }
}

#[cfg(test)]
mod sign_gradient_tests {
    use candle_core::{Device, Tensor, Var};
    use rand::SeedableRng;

    use crate::{SeededRng, SignGradient, binarize_sign};

    /// Gradient of `Σ c ⊙ binarize(r)` with respect to `r`.
    fn grad(stochastic: bool, gradient: SignGradient) -> (Vec<f32>, Vec<f32>) {
        let r = Var::new(&[0.5f32, -2.0, 3.0, -0.25], &Device::Cpu).expect("test");
        let c = Tensor::new(&[3.0f32, -0.5, -4.0, 0.5], &Device::Cpu).expect("test");
        let mut rng = SeededRng::seed_from_u64(7);
        let q = binarize_sign(r.as_tensor(), stochastic, gradient, &mut rng).expect("test");
        let g = (&q * c)
            .expect("test")
            .sum_all()
            .expect("test")
            .backward()
            .expect("test");
        (
            q.to_vec1().expect("test"),
            g.get(r.as_tensor()).expect("test").to_vec1().expect("test"),
        )
    }

    #[test]
    fn htanh_cancels_outside_the_unit_interval_and_clip_bounds_the_gradient() {
        let (q, g) = grad(false, SignGradient::Htanh);
        assert_eq!(q, vec![1.0, -1.0, 1.0, -1.0]);
        assert_eq!(g, vec![3.0, 0.0, 0.0, 0.5]);
        let (q, g) = grad(false, SignGradient::ClipUpstream);
        assert_eq!(q, vec![1.0, -1.0, 1.0, -1.0]);
        assert_eq!(g, vec![1.0, -0.5, -1.0, 0.5]);
        // Stochastic: r = −2 and 3 lie outside [−1, 1], so their values
        // are certain; the gradients follow the same rules.
        let (q, g) = grad(true, SignGradient::ClipUpstream);
        assert_eq!((q[1], q[2]), (-1.0, 1.0));
        assert!(q.iter().all(|v| *v == 1.0 || *v == -1.0));
        assert_eq!(g, vec![1.0, -0.5, -1.0, 0.5]);
        let (_, g) = grad(true, SignGradient::Htanh);
        assert_eq!(g, vec![3.0, 0.0, 0.0, 0.5]);
    }
}
