//! Deterministic binary units (DBN) and the non-binarized sigmoid gate (DT).

use candle_core::Tensor;

use crate::{
    Result,
    stochastic_binary::{checked_slope, straight_through},
};

/// Deterministic binary unit (DBN of §3.2.1).
///
/// Forward: `h = round(σ(m·a))`, i.e. `1` where `σ(m·a) ≥ 0.5` (so at `a = 0`
/// the unit is on), exactly 0 or 1.
/// Backward: the soft-STE gradient `m·σ(ma)(1 − σ(ma))` (eq. 2.13).
pub fn deterministic_binary(a: &Tensor, slope: f64) -> Result<Tensor> {
    let slope = checked_slope(slope)?;
    let p = candle_nn::ops::sigmoid(&(a * slope)?)?;
    let h = p.detach().ge(0.5)?.to_dtype(p.dtype())?;
    straight_through(&h, &p)
}

/// The non-binarized unit `σ(m·a)` with its exact gradient: the gate output of
/// the deterministic SGBN (DT) of §4.6.1, eq. 2.10 without sampling.
pub fn sigmoid_probability(a: &Tensor, slope: f64) -> Result<Tensor> {
    let slope = checked_slope(slope)?;
    Ok(candle_nn::ops::sigmoid(&(a * slope)?)?)
}
