//! [`clean_check`]: what an evaluation measures before any attack: clean
//! accuracy over repeated passes (does the model's prediction change from
//! pass to pass?) and the input gradients (are any zero or non-finite?),
//! the evidence of the [`SanityFlags`].

use std::time::Instant;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use sgbn_attacks::Victim;
use sgbn_estimators::SeededRng;
use sgbn_metrics::{
    GradientSampling, GradientStats, Passes, RepeatedAccuracy, SanityEvidence, SanityFlags,
};

use crate::{EvalError, Result};

/// How the clean check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanConfig {
    /// Clean passes (at least 2 are made, so that randomness shows).
    pub repeats: usize,
    /// Draws of the model's randomness averaged per input gradient.
    pub eot: usize,
    /// Images per batch.
    pub batch_size: usize,
}

impl Default for CleanConfig {
    /// 2 passes, plain gradients, batches of 100.
    fn default() -> Self {
        Self {
            repeats: 2,
            eot: 1,
            batch_size: 100,
        }
    }
}

/// The outcome of [`clean_check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanCheck {
    /// Clean accuracy over the passes.
    pub repeated: RepeatedAccuracy,
    /// Statistics of ∇ₓ loss at the true labels.
    pub gradients: GradientStats,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl CleanCheck {
    /// The model's sanity flags from this check alone (no attacks).
    pub fn flags(&self) -> SanityFlags {
        SanityFlags::check(&self.evidence())
    }

    /// The evidence, to be completed with the attacks at one ε.
    pub fn evidence(&self) -> SanityEvidence {
        SanityEvidence::clean(&self.repeated, &self.gradients)
    }
}

/// Clean accuracy over `max(repeats, 2)` passes, then the input gradients,
/// both drawing the model's randomness from `rng` in that order.
pub fn clean_check(
    victim: &dyn Victim,
    images: &Tensor,
    labels: &Tensor,
    config: &CleanConfig,
    rng: &mut SeededRng,
) -> Result<CleanCheck> {
    if config.batch_size == 0 || config.eot == 0 {
        return Err(EvalError::InvalidConfig(format!(
            "clean check: batch size {} and EOT {} must be ≥ 1",
            config.batch_size, config.eot
        )));
    }
    let start = Instant::now();
    let repeated = RepeatedAccuracy::measure(
        victim,
        images,
        labels,
        Passes {
            repeats: config.repeats.max(2),
            batch_size: config.batch_size,
        },
        rng,
    )?;
    let gradients = GradientStats::measure(
        victim,
        images,
        labels,
        GradientSampling {
            eot_samples: config.eot,
            batch_size: config.batch_size,
        },
        rng,
    )?;
    Ok(CleanCheck {
        repeated,
        gradients,
        seconds: start.elapsed().as_secs_f64(),
    })
}
