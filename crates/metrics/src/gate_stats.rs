//! What a gate did (Fig. 4.9): how many weights it switched on, and the
//! distribution of its probabilities σ(a).

use candle_core::DType;
use sgbn_layers::GateTrace;

use crate::{Histogram, Result};

/// Statistics of one gate over one forward pass.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GateStats {
    /// Share of mask entries that are on (> 0) over the batch.
    pub share_on: f64,
    /// Share on per example.
    pub share_on_per_example: Vec<f64>,
    /// Histogram of σ(a) over `[0, 1]`.
    pub probabilities: Histogram,
    /// Mean σ(a).
    pub mean_probability: f64,
}

impl GateStats {
    /// Statistics of `trace` with `bins` probability bins.
    pub fn of(trace: &GateTrace, bins: usize) -> Result<Self> {
        let b = trace.masks.dim(0)?;
        let masks = trace
            .masks
            .to_dtype(DType::F32)?
            .reshape((b, ()))?
            .to_vec2::<f32>()?;
        let share_on_per_example: Vec<f64> = masks
            .iter()
            .map(|row| row.iter().filter(|v| **v > 0.0).count() as f64 / row.len().max(1) as f64)
            .collect();
        let share_on = share_on_per_example.iter().sum::<f64>() / b.max(1) as f64;
        let p: Vec<f32> = trace
            .probabilities
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let mean_probability = p.iter().map(|&v| v as f64).sum::<f64>() / p.len().max(1) as f64;
        Ok(Self {
            share_on,
            share_on_per_example,
            probabilities: Histogram::of(p.iter().map(|&v| v as f64), 0.0, 1.0, bins)?,
            mean_probability,
        })
    }
}
