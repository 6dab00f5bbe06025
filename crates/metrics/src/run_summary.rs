//! Mean ± standard deviation over independent runs.

use crate::{MetricsError, Result};

/// Summary of one figure measured over `n` runs (the thesis reports mean ±
/// std of 10 runs).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    /// Number of runs.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator; 0 for one run).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl RunSummary {
    /// Summarises `values`; refuses an empty or non-finite list.
    pub fn of(values: &[f64]) -> Result<Self> {
        if values.is_empty() {
            return Err(MetricsError::InvalidArgument(
                "a summary needs at least one run".into(),
            ));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(MetricsError::InvalidArgument(format!(
                "non-finite run value {v}"
            )));
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Ok(Self {
            n,
            mean,
            std,
            min: values.iter().cloned().fold(f64::INFINITY, f64::min),
            max: values.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// Standard error of the mean, `std / √n`.
    pub fn standard_error(&self) -> f64 {
        self.std / (self.n as f64).sqrt()
    }
}

/// Train − test accuracy gap (chapter 3's overfitting measure), in the units
/// of its arguments.
pub fn train_test_gap(train_accuracy: f64, test_accuracy: f64) -> f64 {
    train_accuracy - test_accuracy
}
