//! Distortion between clean and perturbed images (eq. 2.31, Fig. 4.11).

use candle_core::{DType, Tensor};

use crate::{MetricsError, Result};

/// Per-example ℓ1 (mean absolute) and ℓ∞ (largest absolute) change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Distortion {
    /// Mean |x̃ − x| over the pixels of each example (the thesis's "ℓ1").
    pub l1_mean_abs: Vec<f64>,
    /// max |x̃ − x| over the pixels of each example.
    pub linf: Vec<f64>,
}

impl Distortion {
    /// Distortion of `perturbed` against `clean`, both `(N, …)`.
    pub fn between(clean: &Tensor, perturbed: &Tensor) -> Result<Self> {
        if clean.dims() != perturbed.dims() || clean.rank() == 0 {
            return Err(MetricsError::Mismatch(format!(
                "clean {:?} vs perturbed {:?}",
                clean.dims(),
                perturbed.dims()
            )));
        }
        let n = clean.dim(0)?;
        if n == 0 {
            return Ok(Self {
                l1_mean_abs: Vec::new(),
                linf: Vec::new(),
            });
        }
        let d = (perturbed.to_dtype(DType::F64)? - clean.to_dtype(DType::F64)?)?
            .abs()?
            .reshape((n, ()))?;
        Ok(Self {
            l1_mean_abs: d.mean(1)?.to_vec1()?,
            linf: d.max(1)?.to_vec1()?,
        })
    }

    /// Mean over examples of the ℓ1 (mean absolute) distortion.
    pub fn mean_l1(&self) -> f64 {
        mean(&self.l1_mean_abs)
    }

    /// Mean over examples of the ℓ∞ distortion.
    pub fn mean_linf(&self) -> f64 {
        mean(&self.linf)
    }

    /// Largest ℓ∞ distortion of any example.
    pub fn max_linf(&self) -> f64 {
        self.linf.iter().cloned().fold(0.0, f64::max)
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}
