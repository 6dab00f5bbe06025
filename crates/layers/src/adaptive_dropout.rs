//! Adaptive dropout ("standout", Ba & Frey 2013; thesis eq. 2.8, §4.7).

use candle_core::Tensor;
use candle_nn::VarBuilder;
use rand::Rng;
use sgbn_estimators::bernoulli_hard_ste;

use crate::{LayerError, Result};

/// How adaptive dropout applies its keep probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdaptiveDropoutMode {
    /// AD (ST): a Bernoulli(p) mask with the hard STE, in training and at
    /// test (like the SGBN gates).
    Stochastic,
    /// AD (DT): the unit is multiplied by `p`, no sampling.
    Deterministic,
}

/// Adaptive dropout on the units of a conv layer: unit `j` is kept with
/// probability `p_j = σ(α_c·z_j + β_c)` (eq. 2.8), where `z` is the layer's
/// (batch-normalized) pre-activation, and `α`, `β` (parameters `alpha`,
/// `beta`, one per channel, initialised at 1 and 0) are trained with the
/// network.
///
/// This is Ba & Frey's shared-weight form (the standout network's weights
/// are an affine function of the layer's weights, `π = α·W + β`), read as
/// acting on the layer's pre-activation; the other reading, `β` multiplying
/// the sum of the inputs in each receptive field, is noted in
/// `docs/models.md`. The thesis gives no further detail.
#[derive(Debug, Clone)]
pub struct AdaptiveDropout {
    alpha: Tensor,
    beta: Tensor,
    mode: AdaptiveDropoutMode,
}

/// Builds an [`AdaptiveDropout`] for `channels` channels under `vb`.
pub fn adaptive_dropout(
    channels: usize,
    mode: AdaptiveDropoutMode,
    vb: VarBuilder<'_>,
) -> Result<AdaptiveDropout> {
    if channels == 0 {
        return Err(LayerError::InvalidConfig {
            layer: "AdaptiveDropout",
            why: "channels must be > 0".into(),
        });
    }
    Ok(AdaptiveDropout {
        alpha: vb.get_with_hints(channels, "alpha", candle_nn::Init::Const(1.0))?,
        beta: vb.get_with_hints(channels, "beta", candle_nn::Init::Const(0.0))?,
        mode,
    })
}

impl AdaptiveDropout {
    /// The mode.
    pub fn mode(&self) -> AdaptiveDropoutMode {
        self.mode
    }

    /// The keep probabilities' logits `α_c·z + β_c` for `z` `(B, C, H, W)`.
    pub fn logits(&self, z: &Tensor) -> Result<Tensor> {
        let c = self.alpha.dim(0)?;
        if z.rank() != 4 || z.dim(1)? != c {
            return Err(LayerError::BadInput {
                layer: "AdaptiveDropout",
                expected: format!("(B, {c}, H, W)"),
                found: z.dims().to_vec(),
            });
        }
        let a = self.alpha.reshape((1, c, 1, 1))?;
        let b = self.beta.reshape((1, c, 1, 1))?;
        Ok(z.broadcast_mul(&a)?.broadcast_add(&b)?)
    }

    /// `h ⊙ m` where `m` is the Bernoulli(p) mask (ST) or `p` itself (DT),
    /// `p` computed from the pre-activation `z` (same shape as `h`).
    pub fn forward<R: Rng + ?Sized>(&self, h: &Tensor, z: &Tensor, rng: &mut R) -> Result<Tensor> {
        let logits = self.logits(z)?;
        let keep = match self.mode {
            AdaptiveDropoutMode::Stochastic => bernoulli_hard_ste(&logits, rng)?,
            AdaptiveDropoutMode::Deterministic => candle_nn::ops::sigmoid(&logits)?,
        };
        Ok((h * keep)?)
    }
}
