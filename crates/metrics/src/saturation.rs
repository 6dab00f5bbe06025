//! Saturation of the units an attack differentiates through: where a
//! sigmoid or tanh is flat in float32, its gradient is zero or tiny and a
//! gradient attack is blind there (gradient masking by saturation).

use candle_core::{DType, Tensor};
use sgbn_estimators::SeededRng;
use sgbn_models::{Classifier, ForwardContext};

use crate::{MetricsError, Result};

/// The slope below which an activation counts as saturated: `tanh'(z) =
/// 1 − tanh²(z) ≤ 2·10⁻³` is `|tanh(z)| ≥ 0.999`, within 10⁻³ of ±1; the
/// same slope bound is used for asinh (`|z| ≥ 500`).
pub const SATURATED_SLOPE: f64 = 2e-3;

/// How saturated a model's binary dense unit and gates are on some images.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SaturationStats {
    /// Examples measured.
    pub examples: usize,
    /// Share of the dense binary unit's inputs `m·a` where `σ(m·a)` is
    /// exactly 0 or 1 in f32 (its soft-STE gradient `m·σ(1 − σ)` is then 0
    /// on the side of 1, and at most `m·σ` on the side of 0).
    pub dense_unit_saturated: Option<f64>,
    /// Mean `|m·a|` of the dense binary unit.
    pub dense_unit_mean_abs_input: Option<f64>,
    /// Share of the gates' state units (tanh / asinh) whose slope is at
    /// most [`SATURATED_SLOPE`].
    pub gate_state_saturated: Option<f64>,
    /// Share of the gates' mask probabilities `σ(a)` exactly 0 or 1 in f32.
    pub gate_probability_saturated: Option<f64>,
}

/// Running sums of one share.
#[derive(Default)]
struct Share {
    hits: f64,
    total: f64,
    abs_sum: f64,
}

impl Share {
    fn add(&mut self, hits: &Tensor, values: Option<&Tensor>) -> Result<()> {
        self.hits += hits.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?;
        self.total += hits.elem_count() as f64;
        if let Some(v) = values {
            self.abs_sum += v
                .abs()?
                .to_dtype(DType::F64)?
                .sum_all()?
                .to_scalar::<f64>()?;
        }
        Ok(())
    }

    fn share(&self) -> Option<f64> {
        (self.total > 0.0).then(|| self.hits / self.total)
    }

    fn mean_abs(&self) -> Option<f64> {
        (self.total > 0.0).then(|| self.abs_sum / self.total)
    }
}

/// 1 where a probability is exactly 0 or 1 in f32.
fn at_zero_or_one(p: &Tensor) -> Result<Tensor> {
    let p = p.to_dtype(DType::F32)?;
    Ok((p.eq(0f32)?.to_dtype(DType::F32)? + p.eq(1f32)?.to_dtype(DType::F32)?)?)
}

impl SaturationStats {
    /// Forward passes of `model` (with `ctx`) over `images` in batches of
    /// `batch_size`, reading the dense unit's input and the gate traces
    /// after each.
    pub fn measure(
        model: &dyn Classifier,
        ctx: ForwardContext,
        images: &Tensor,
        batch_size: usize,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(MetricsError::InvalidArgument(
                "batch size must be ≥ 1".into(),
            ));
        }
        let n = images.dim(0)?;
        let (mut dense, mut state, mut prob) =
            (Share::default(), Share::default(), Share::default());
        let mut start = 0;
        while start < n {
            let len = batch_size.min(n - start);
            model.forward(&images.narrow(0, start, len)?.detach(), ctx, rng)?;
            if let Some(ma) = model.dense_unit_input() {
                let p = candle_nn::ops::sigmoid(&ma.to_dtype(DType::F32)?)?;
                dense.add(&at_zero_or_one(&p)?, Some(&ma))?;
            }
            let traces = model.as_gated().map(|g| g.gate_traces());
            for trace in traces.into_iter().flatten().flatten() {
                let slopes = trace.activation_slopes()?;
                state.add(&slopes.le(SATURATED_SLOPE)?.to_dtype(DType::F32)?, None)?;
                prob.add(&at_zero_or_one(&trace.probabilities)?, None)?;
            }
            start += len;
        }
        Ok(Self {
            examples: n,
            dense_unit_saturated: dense.share(),
            dense_unit_mean_abs_input: dense.mean_abs(),
            gate_state_saturated: state.share(),
            gate_probability_saturated: prob.share(),
        })
    }
}
