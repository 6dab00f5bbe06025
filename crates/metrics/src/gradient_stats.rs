//! Statistics of the input gradient ∇ₓ loss (Fig. 4.16).

use candle_core::{DType, Tensor};
use sgbn_attacks::{Victim, loss_gradient};
use sgbn_estimators::SeededRng;

use crate::{Histogram, MetricsError, Result};

/// How [`GradientStats::measure`] samples: named fields, so that the two
/// counts cannot be swapped unnoticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradientSampling {
    /// Draws of the model's randomness averaged per gradient (EOT, ≥ 1).
    pub eot_samples: usize,
    /// Images per backward pass (≥ 1).
    pub batch_size: usize,
}

/// Every component of ∇ₓ CE over a set, with summary figures. A gradient
/// that is zero or non-finite for an example makes gradient attacks
/// powerless there, so both are counted for the sanity flags.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GradientStats {
    /// Mean of the finite components.
    pub mean: f64,
    /// Population variance of the finite components.
    pub variance: f64,
    /// Mean |component|.
    pub mean_abs: f64,
    /// Largest |component|.
    pub max_abs: f64,
    /// Share of components exactly zero.
    pub zero_fraction: f64,
    /// Examples whose whole gradient is exactly zero.
    pub zero_examples: usize,
    /// Components that are NaN or ±∞.
    pub non_finite: u64,
    /// Examples measured.
    pub examples: usize,
    /// The finite components, in order (not serialized).
    #[serde(skip)]
    pub values: Vec<f32>,
}

impl GradientStats {
    /// ∇ₓ CE of `victim` at the true labels, averaged over
    /// `sampling.eot_samples` draws of its randomness, in batches of
    /// `sampling.batch_size`.
    pub fn measure(
        victim: &dyn Victim,
        images: &Tensor,
        labels: &Tensor,
        sampling: GradientSampling,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let GradientSampling {
            eot_samples,
            batch_size,
        } = sampling;
        let n = labels.dim(0)?;
        if batch_size == 0 || images.dim(0)? != n {
            return Err(MetricsError::InvalidArgument(format!(
                "{} images, {n} labels, batch size {batch_size}",
                images.dim(0)?
            )));
        }
        let mut rows = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let len = batch_size.min(n - start);
            let g = loss_gradient(
                victim,
                &images.narrow(0, start, len)?,
                &labels.narrow(0, start, len)?,
                eot_samples,
                rng,
            )?;
            let g = g
                .to_dtype(DType::F32)?
                .reshape((len, ()))?
                .to_vec2::<f32>()?;
            rows.extend(g);
            start += len;
        }
        Ok(Self::from_rows(&rows))
    }

    /// The figures of per-example gradient rows.
    pub fn from_rows(rows: &[Vec<f32>]) -> Self {
        let mut values = Vec::new();
        let mut non_finite = 0u64;
        let mut zeros = 0usize;
        let mut zero_examples = 0;
        let mut total = 0usize;
        for row in rows {
            if row.iter().all(|v| *v == 0.0) {
                zero_examples += 1;
            }
            for &v in row {
                total += 1;
                if !v.is_finite() {
                    non_finite += 1;
                    continue;
                }
                if v == 0.0 {
                    zeros += 1;
                }
                values.push(v);
            }
        }
        let m = values.len().max(1) as f64;
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / m;
        let variance = values
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / m;
        Self {
            mean,
            variance,
            mean_abs: values.iter().map(|&v| (v as f64).abs()).sum::<f64>() / m,
            max_abs: values.iter().map(|&v| (v as f64).abs()).fold(0.0, f64::max),
            zero_fraction: if total == 0 {
                0.0
            } else {
                zeros as f64 / total as f64
            },
            zero_examples,
            non_finite,
            examples: rows.len(),
            values,
        }
    }

    /// Histogram of the finite components over `[lo, hi]`.
    pub fn histogram(&self, lo: f64, hi: f64, bins: usize) -> Result<Histogram> {
        Histogram::of(self.values.iter().map(|&v| v as f64), lo, hi, bins)
    }
}
