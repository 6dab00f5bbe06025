//! Slope schedules for the slope-annealing trick (eq. 2.12–2.13).

use crate::{EstimatorError, Result};

/// How the slope `m` of `σ(m·a)` grows during training.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlopeSchedule {
    /// `m = min(max, start + rate·epoch)`: the thesis's per-epoch schedule,
    /// `min(5, 1 + 0.04·epoch)` ([`SlopeSchedule::thesis`]).
    Linear {
        /// Slope at epoch 0.
        start: f64,
        /// Increase per epoch.
        rate: f64,
        /// Upper bound.
        max: f64,
    },
    /// `m = min(max, start·factor^⌊iteration / every⌋)`: the authors' code,
    /// multiplying by 1.04 every 1000 iterations up to 5
    /// ([`SlopeSchedule::authors_code`]).
    Geometric {
        /// Slope at iteration 0.
        start: f64,
        /// Multiplier applied every `every` iterations.
        factor: f64,
        /// Iterations between two multiplications (> 0).
        every: u64,
        /// Upper bound.
        max: f64,
    },
    /// A fixed slope.
    Constant(f64),
}

impl Default for SlopeSchedule {
    fn default() -> Self {
        Self::thesis()
    }
}

impl SlopeSchedule {
    /// The thesis's schedule: `m = min(5, 1 + 0.04·epoch)`.
    pub fn thesis() -> Self {
        Self::Linear {
            start: 1.0,
            rate: 0.04,
            max: 5.0,
        }
    }

    /// The authors' code: `m = min(5, 1.04^⌊iteration/1000⌋)`.
    pub fn authors_code() -> Self {
        Self::Geometric {
            start: 1.0,
            factor: 1.04,
            every: 1000,
            max: 5.0,
        }
    }

    /// Checks that the schedule only ever yields finite, positive slopes.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value, why| Err(EstimatorError::InvalidConfig { name, value, why });
        match *self {
            Self::Linear { start, rate, max } => {
                if !(start.is_finite() && start > 0.0) {
                    return bad("slope start", start, "must be finite and > 0");
                }
                if !(rate.is_finite() && rate >= 0.0) {
                    return bad("slope rate", rate, "must be finite and >= 0");
                }
                if !(max.is_finite() && max >= start) {
                    return bad("slope max", max, "must be finite and >= start");
                }
            }
            Self::Geometric {
                start,
                factor,
                every,
                max,
            } => {
                if !(start.is_finite() && start > 0.0) {
                    return bad("slope start", start, "must be finite and > 0");
                }
                if !(factor.is_finite() && factor >= 1.0) {
                    return bad("slope factor", factor, "must be finite and >= 1");
                }
                if every == 0 {
                    return bad("slope period", 0.0, "must be > 0 iterations");
                }
                if !(max.is_finite() && max >= start) {
                    return bad("slope max", max, "must be finite and >= start");
                }
            }
            Self::Constant(m) => {
                if !(m.is_finite() && m > 0.0) {
                    return Err(EstimatorError::InvalidSlope(m));
                }
            }
        }
        Ok(())
    }

    /// The slope after `epoch` completed epochs and `iteration` completed
    /// mini-batch updates (each schedule reads the counter it needs).
    pub fn slope(&self, epoch: u64, iteration: u64) -> f64 {
        match *self {
            Self::Linear { start, rate, max } => (start + rate * epoch as f64).min(max),
            Self::Geometric {
                start,
                factor,
                every,
                max,
            } => {
                let steps = (iteration / every.max(1)).min(i32::MAX as u64) as i32;
                (start * factor.powi(steps)).min(max)
            }
            Self::Constant(m) => m,
        }
    }
}
