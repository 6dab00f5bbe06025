//! Checks that every trainable parameter received a usable gradient.

use candle_core::{DType, Tensor, backprop::GradStore};

use crate::{EstimatorError, Result};

/// Which of a set of named parameters got no gradient, a non-finite one, or
/// one that is exactly zero everywhere, after a backward pass.
///
/// candle returns `None` (not zeros) for parameters reached only through
/// `sign`, `round`, comparisons or integer casts, and candle-nn's optimizers
/// skip those parameters without a word: this is how such bugs are caught.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradientCoverage {
    /// Parameters without a gradient.
    pub missing: Vec<String>,
    /// Parameters whose gradient has NaN or infinity.
    pub non_finite: Vec<String>,
    /// Parameters whose gradient is exactly zero everywhere (suspicious but
    /// possible, e.g. a dead ReLU unit; reported, not an error).
    pub all_zero: Vec<String>,
}

impl GradientCoverage {
    /// Inspects `grads` for each `(name, parameter)`.
    pub fn check<'a, I>(params: I, grads: &GradStore) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a Tensor)>,
    {
        let mut report = Self::default();
        for (name, param) in params {
            let Some(grad) = grads.get(param) else {
                report.missing.push(name.to_string());
                continue;
            };
            let values = grad.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
            if values.iter().any(|v| !v.is_finite()) {
                report.non_finite.push(name.to_string());
            } else if values.iter().all(|v| *v == 0.0) {
                report.all_zero.push(name.to_string());
            }
        }
        Ok(report)
    }

    /// `Ok` when no parameter is missing a gradient or has a non-finite one.
    pub fn ensure_complete(&self) -> Result<()> {
        if self.missing.is_empty() && self.non_finite.is_empty() {
            Ok(())
        } else {
            Err(EstimatorError::IncompleteGradients {
                missing: self.missing.clone(),
                non_finite: self.non_finite.clone(),
            })
        }
    }
}
