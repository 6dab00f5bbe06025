//! Random weight masks: DropConnect and random masking (thesis §4.7,
//! Table 4.8), active in training and at test time.

use candle_core::{Device, Tensor};
use rand::Rng;
use sgbn_estimators::uniform_like;

use crate::{LayerError, Result};

/// Bernoulli masks for the weights of a conv layer, in the shape
/// [`crate::MaskedConv2d::forward_masked`] takes.
///
/// The thesis (§4.7) compares SGBN with DropConnect (drop 40 % / 50 % of
/// the conv weights) and with "random masking" that replaces the gates by
/// Bernoulli masks (keep 0.6 / 0.5), both at training and test time. It does
/// not say how the two differ; we read DropConnect as one mask per
/// mini-batch (as stochastic-weight methods are usually run, §4.1) and
/// random masking as one mask per sample (as the gates produce). Masks are
/// not rescaled: the same distribution is used in training and at test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomWeightMask {
    /// Probability that a weight is kept.
    pub keep: f64,
    /// One mask per sample (random masking) or one per batch (DropConnect).
    pub per_sample: bool,
}

impl RandomWeightMask {
    /// Checks `0 < keep ≤ 1`.
    pub fn new(keep: f64, per_sample: bool) -> Result<Self> {
        if !(keep > 0.0 && keep <= 1.0) {
            return Err(LayerError::InvalidConfig {
                layer: "RandomWeightMask",
                why: format!("keep probability {keep} must lie in (0, 1]"),
            });
        }
        Ok(Self { keep, per_sample })
    }

    /// Masks `(B, C_out, C_in, k, k)` for weights of shape `weight_shape`,
    /// exactly 0 or 1, drawn from `rng`.
    pub fn masks<R: Rng + ?Sized>(
        &self,
        batch: usize,
        weight_shape: &[usize],
        device: &Device,
        rng: &mut R,
    ) -> Result<Tensor> {
        let mut shape = vec![if self.per_sample { batch } else { 1 }];
        shape.extend_from_slice(weight_shape);
        let zeros = Tensor::zeros(shape.as_slice(), candle_core::DType::F32, device)?;
        let keep = uniform_like(&zeros, rng)?
            .lt(self.keep)?
            .to_dtype(candle_core::DType::F32)?;
        let mut full = vec![batch];
        full.extend_from_slice(weight_shape);
        Ok(keep.broadcast_as(full.as_slice())?.contiguous()?)
    }
}
