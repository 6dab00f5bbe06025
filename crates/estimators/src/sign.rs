//! ±1 binarization with the hard-tanh straight-through estimator (eq. 2.17–2.22).

use candle_core::Tensor;
use rand::Rng;

use crate::{
    Result,
    clip_gradient::clip_gradient,
    stochastic_binary::{bernoulli_sample, straight_through},
};

/// The hard sigmoid of eq. 2.19: `clip((x + 1)/2, 0, 1)`.
pub fn hard_sigmoid(x: &Tensor) -> Result<Tensor> {
    Ok(((x + 1.0)? * 0.5)?.clamp(0.0, 1.0)?)
}

/// The htanh surrogate `r · 1[|r| ≤ 1]` whose gradient is exactly `1[|r| ≤ 1]`
/// (eq. 2.21–2.22), including at `|r| = 1`.
fn htanh_surrogate(r: &Tensor) -> Result<Tensor> {
    let inside = r.detach().abs()?.le(1.0)?.to_dtype(r.dtype())?;
    Ok(r.mul(&inside)?)
}

/// Deterministic sign binarization (eq. 2.17) with the htanh STE.
///
/// Forward: `+1` where `r ≥ 0`, `−1` otherwise (so never 0, unlike
/// `Tensor::sign`). Backward: `g_r = g_q · 1[|r| ≤ 1]` (eq. 2.21), Courbariaux
/// et al. 2016; used by the BNN weights and activations.
pub fn sign_ste(r: &Tensor) -> Result<Tensor> {
    let q = ((r.detach().ge(0.0)?.to_dtype(r.dtype())? * 2.0)? - 1.0)?;
    straight_through(&q, &htanh_surrogate(r)?)
}

/// Stochastic ±1 binarization (eq. 2.18–2.19) with the htanh STE.
///
/// Forward: `+1` with probability `clip((r + 1)/2, 0, 1)` (the hard sigmoid of
/// eq. 2.19), `−1` otherwise. Backward: `g_r = g_q · 1[|r| ≤ 1]` (eq. 2.21),
/// as for [`sign_ste`]. Used by the stochastic BNN and the ±1 SGBN gate.
pub fn stochastic_sign_ste<R: Rng + ?Sized>(r: &Tensor, rng: &mut R) -> Result<Tensor> {
    let p = hard_sigmoid(&r.detach())?;
    let q = ((bernoulli_sample(&p, rng)? * 2.0)? - 1.0)?;
    straight_through(&q, &htanh_surrogate(r)?)
}

/// Which straight-through gradient a ±1 binarization passes back.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SignGradient {
    /// `g · 1[|r| ≤ 1]`, the htanh STE of eq. 2.21 (the thesis; default).
    #[default]
    Htanh,
    /// `clip(g, −1, 1)`, the `QuantizeGrad` override of Galloway et al.'s
    /// BNN code (see [`crate::clip_gradient()`]).
    ClipUpstream,
}

/// `±1` binarization of `r`, deterministic ([`sign_ste`], eq. 2.17) or
/// stochastic ([`stochastic_sign_ste`], eq. 2.18–2.19), with the chosen
/// straight-through gradient.
pub fn binarize_sign<R: Rng + ?Sized>(
    r: &Tensor,
    stochastic: bool,
    gradient: SignGradient,
    rng: &mut R,
) -> Result<Tensor> {
    match (stochastic, gradient) {
        (false, SignGradient::Htanh) => sign_ste(r),
        (true, SignGradient::Htanh) => stochastic_sign_ste(r, rng),
        (stochastic, SignGradient::ClipUpstream) => {
            let p_or_sign = if stochastic {
                let p = hard_sigmoid(&r.detach())?;
                ((bernoulli_sample(&p, rng)? * 2.0)? - 1.0)?
            } else {
                ((r.detach().ge(0.0)?.to_dtype(r.dtype())? * 2.0)? - 1.0)?
            };
            clip_gradient(&straight_through(&p_or_sign, r)?, 1.0)
        }
    }
}
