//! The box an adversarial iterate lives in, and the projected sign step of
//! FGSM (eq. 2.26), BIM / ILL (eqs. 2.27–2.28) and PGD (Madry et al. 2018;
//! the inner maximization of eq. 2.29): one definition for the evaluation
//! attacks of `sgbn-attacks` and the adversarial training of
//! `sgbn-defenses`.

use candle_core::Tensor;

use crate::Result;

/// Element-wise bounds `lo ≤ x ≤ hi` around a clean batch `x₀`.
#[derive(Debug, Clone)]
pub struct PixelBox {
    lo: Tensor,
    hi: Tensor,
}

impl PixelBox {
    /// The ℓ∞ ball of radius `eps` around `x0` within the pixel range:
    /// `[max(x₀ − ε, 0), min(x₀ + ε, 1)]` (CleverHans's projection).
    pub fn linf_ball(x0: &Tensor, eps: f64) -> Result<Self> {
        Ok(Self {
            lo: (x0 - eps)?.clamp(0f32, 1f32)?,
            hi: (x0 + eps)?.clamp(0f32, 1f32)?,
        })
    }

    /// The pixel range `[0, 1]` only (the literal eqs. 2.27–2.28, whose
    /// total change can exceed ε).
    pub fn pixel_range(x0: &Tensor) -> Result<Self> {
        Ok(Self {
            lo: x0.zeros_like()?,
            hi: x0.ones_like()?,
        })
    }

    /// `x` clipped into the box.
    pub fn project(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.maximum(&self.lo)?.minimum(&self.hi)?)
    }

    /// One projected sign step `Π(x + α · sign(g))`, detached from the
    /// graph (sign(0) = 0: a zero gradient component leaves its pixel).
    pub fn sign_step(&self, x: &Tensor, gradient: &Tensor, step: f64) -> Result<Tensor> {
        let moved = (x + (gradient.sign()? * step)?)?;
        Ok(self.project(&moved)?.detach())
    }
}
