//! Run-time choice among the stateless binary estimators.

use candle_core::Tensor;
use rand::Rng;

use crate::{
    Result, bernoulli_hard_ste, bernoulli_soft_ste, deterministic_binary, sigmoid_probability,
    sign_ste, stochastic_sign_ste,
};

/// A stateless binary unit, chosen at run time (e.g. from a model spec).
///
/// REINFORCE is not here: it needs the per-example loss after the forward
/// pass, see [`crate::ReinforceBaseline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryEstimator {
    /// [`bernoulli_hard_ste`]: `1[u < σ(a)]`, gradient 1 (the slope is ignored).
    HardSte,
    /// [`bernoulli_soft_ste`]: `1[u < σ(m·a)]`, gradient of `σ(m·a)`.
    SoftSte,
    /// [`deterministic_binary`]: `round(σ(m·a))`, gradient of `σ(m·a)`.
    Deterministic,
    /// [`sigmoid_probability`]: `σ(m·a)`, not binarized (DT gates).
    Sigmoid,
    /// [`sign_ste`]: `±1` by sign, htanh gradient (the slope is ignored).
    Sign,
    /// [`stochastic_sign_ste`]: `±1` by the hard sigmoid, htanh gradient.
    StochasticSign,
}

impl BinaryEstimator {
    /// Applies the estimator to pre-activations `a` with slope `slope`,
    /// drawing any noise from `rng`.
    pub fn apply<R: Rng + ?Sized>(&self, a: &Tensor, slope: f64, rng: &mut R) -> Result<Tensor> {
        match self {
            Self::HardSte => bernoulli_hard_ste(a, rng),
            Self::SoftSte => bernoulli_soft_ste(a, slope, rng),
            Self::Deterministic => deterministic_binary(a, slope),
            Self::Sigmoid => sigmoid_probability(a, slope),
            Self::Sign => sign_ste(a),
            Self::StochasticSign => stochastic_sign_ste(a, rng),
        }
    }

    /// Whether the forward value depends on random draws.
    pub fn is_stochastic(&self) -> bool {
        matches!(self, Self::HardSte | Self::SoftSte | Self::StochasticSign)
    }

    /// The values the forward pass can take (`None` for the sigmoid).
    pub fn support(&self) -> Option<[f64; 2]> {
        match self {
            Self::HardSte | Self::SoftSte | Self::Deterministic => Some([0.0, 1.0]),
            Self::Sign | Self::StochasticSign => Some([-1.0, 1.0]),
            Self::Sigmoid => None,
        }
    }
}
