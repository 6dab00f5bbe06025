//! How a BNN layer binarizes its weights and inputs (eq. 2.17–2.22).

use candle_core::Tensor;
use rand::Rng;
use sgbn_estimators::{SignGradient, binarize_sign};

use crate::Result;

/// Deterministic or stochastic ±1 weights.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum WeightBinarization {
    /// `sign(W)` (eq. 2.17): the same weights on every pass (BNN DT).
    #[default]
    Deterministic,
    /// `+1` with probability `clip((W + 1)/2, 0, 1)` (eq. 2.18–2.19), drawn
    /// anew on every pass, at training and at test time (BNN ST; Galloway
    /// et al.'s `Conv2DRand`).
    Stochastic,
}

/// The binarization of a BNN layer: inputs by `sign` (always
/// deterministic, as in Galloway et al.), weights as chosen, both with the
/// same straight-through gradient.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct BnnBinarization {
    /// Weight binarization.
    pub weights: WeightBinarization,
    /// Straight-through gradient of both binarizations (thesis: htanh).
    #[serde(default)]
    pub gradient: SignGradient,
}

impl BnnBinarization {
    /// `±1` weights from the real-valued `w`.
    pub fn weights<R: Rng + ?Sized>(&self, w: &Tensor, rng: &mut R) -> Result<Tensor> {
        let stochastic = self.weights == WeightBinarization::Stochastic;
        Ok(binarize_sign(w, stochastic, self.gradient, rng)?)
    }

    /// `±1` activations `sign(x)` from the (batch-normalized) input.
    pub fn inputs<R: Rng + ?Sized>(&self, x: &Tensor, rng: &mut R) -> Result<Tensor> {
        Ok(binarize_sign(x, false, self.gradient, rng)?)
    }

    /// Whether two passes on the same input can differ.
    pub fn is_stochastic(&self) -> bool {
        self.weights == WeightBinarization::Stochastic
    }
}

/// The initial distribution of binary kernels in Galloway et al.'s code:
/// normal with σ 0.2 (theirs is truncated at 2σ; ours is not, so about
/// 4.6 % of the initial values lie beyond ±0.4, all well inside the
/// htanh window ±1).
pub(crate) const BINARY_WEIGHT_STD: f64 = 0.2;
