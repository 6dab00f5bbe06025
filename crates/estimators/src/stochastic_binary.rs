//! Stochastic {0, 1} units with straight-through gradients (eq. 2.11–2.13).

use candle_core::{DType, Tensor};
use rand::Rng;

use crate::{Result, uniform::uniform_like};

/// `1[u < p]` in the dtype of `p`, with no gradient.
pub(crate) fn bernoulli_sample<R: Rng + ?Sized>(p: &Tensor, rng: &mut R) -> Result<Tensor> {
    let u = uniform_like(p, rng)?;
    Ok(u.lt(&p.detach())?.to_dtype(p.dtype())?)
}

/// Returns `value` in the forward pass while gradients flow to `surrogate`
/// unchanged: `value + (surrogate − detach(surrogate))`.
///
/// Unlike `surrogate + detach(value − surrogate)`, this keeps the forward
/// value exact (the residue `s − s` is exactly zero for finite `s`).
pub(crate) fn straight_through(value: &Tensor, surrogate: &Tensor) -> Result<Tensor> {
    let zero_with_grad = (surrogate - surrogate.detach())?;
    Ok((value.detach() + zero_with_grad)?)
}

pub(crate) fn checked_slope(slope: f64) -> Result<f64> {
    if slope.is_finite() && slope > 0.0 {
        Ok(slope)
    } else {
        Err(crate::EstimatorError::InvalidSlope(slope))
    }
}

/// Stochastic binary unit with the **hard** straight-through estimator.
///
/// Forward: `h = 1[u < σ(a)]`, `u ~ U[0, 1)` (eq. 2.10–2.11), exactly 0 or 1.
/// Backward: `∂h/∂a = 1`, the upstream gradient passes unchanged (Bengio et
/// al. 2013). This is the binarizer of the SGBN gate masks (§4.2).
///
/// On the CPU (f32/f64) this is one fused custom op whose uniforms come from
/// ChaCha8 streams keyed by one draw from `rng` (per fixed chunk of
/// elements, so the result does not depend on thread scheduling); elsewhere
/// it is built from tensor ops. Both are exact samples with the same law.
pub fn bernoulli_hard_ste<R: Rng + ?Sized>(a: &Tensor, rng: &mut R) -> Result<Tensor> {
    if a.device().is_cpu() && matches!(a.dtype(), DType::F32 | DType::F64) {
        let op = crate::fused_bernoulli::HardSteSample { key: rng.random() };
        return Ok(a.contiguous()?.apply_op1(op)?);
    }
    bernoulli_hard_ste_reference(a, rng)
}

/// [`bernoulli_hard_ste`] built from tensor ops (sigmoid, uniform draw,
/// comparison, straight-through): what runs on devices without the fused
/// CPU op, kept public so tests can compare the two.
pub fn bernoulli_hard_ste_reference<R: Rng + ?Sized>(a: &Tensor, rng: &mut R) -> Result<Tensor> {
    let p = candle_nn::ops::sigmoid(&a.detach())?;
    let h = bernoulli_sample(&p, rng)?;
    straight_through(&h, a)
}

/// Stochastic binary unit with the **soft** straight-through estimator and
/// slope `m`.
///
/// Forward: `h = 1[u < σ(m·a)]` (eq. 2.12), exactly 0 or 1.
/// Backward: `∂h/∂a = ∂σ(m·a)/∂a = m·σ(ma)(1 − σ(ma))` (eq. 2.13).
///
/// `slope` must be finite and positive; see [`crate::SlopeSchedule`] for the
/// slope-annealing schedules.
pub fn bernoulli_soft_ste<R: Rng + ?Sized>(a: &Tensor, slope: f64, rng: &mut R) -> Result<Tensor> {
    let slope = checked_slope(slope)?;
    let p = candle_nn::ops::sigmoid(&(a * slope)?)?;
    let h = bernoulli_sample(&p, rng)?;
    straight_through(&h, &p)
}
