//! # sgbn-estimators
//!
//! Gradient estimators for stochastic and deterministic binary units, usable on
//! any [`candle_core::Tensor`] (thesis §2.3, eq. 2.10–2.22).
//!
//! A binary unit takes a pre-activation `a` and returns `h`. The forward value
//! of every estimator here is *exactly* binary (no rounding residue), and the
//! backward pass is the estimator's surrogate gradient:
//!
//! | function | forward | d h / d a | thesis |
//! |---|---|---|---|
//! | [`bernoulli_hard_ste`] | `1[u < σ(a)]` | `1` | eq. 2.11, hard STE |
//! | [`bernoulli_soft_ste`] | `1[u < σ(m·a)]` | `m·σ(ma)(1−σ(ma))` | eq. 2.12–2.13 |
//! | [`deterministic_binary`] | `round(σ(m·a))` | `m·σ(ma)(1−σ(ma))` | DBN, §3.2.1 |
//! | [`sigmoid_probability`] | `σ(m·a)` | exact | non-binarized gate (DT), §4.6.1 |
//! | [`sign_ste`] | `sign(r)` (`+1` at 0) | `1[|r| ≤ 1]` | eq. 2.17, 2.21–2.22 |
//! | [`stochastic_sign_ste`] | `+1` w.p. `clip((r+1)/2,0,1)` else `−1` | `1[|r| ≤ 1]` | eq. 2.18–2.19 |
//! | [`ReinforceBaseline`] | `1[u < σ(a)]` | `(h − σ(a))·(L − L̄)` | eq. 2.14–2.16 |
//!
//! [`BinaryEstimator`] selects one of the stateless estimators at run time, and
//! [`SlopeSchedule`] gives the slope `m` of the slope-annealing trick.
//!
//! ## Randomness
//!
//! candle cannot seed its CPU generator, so every stochastic estimator takes a
//! caller-owned generator (`&mut R where R: rand::Rng`): the same seed gives the
//! same samples, bit for bit. [`SeededRng`] is the generator the project uses.
//!
//! ## Gradient coverage
//!
//! candle returns no gradient at all (`None`, not zeros) for paths that go only
//! through `sign`, `round` or comparisons, and candle-nn's optimizers skip such
//! parameters silently. [`GradientCoverage`] checks that every parameter that
//! should be trained did receive a finite gradient.
//!
//! ## Quick start
//!
//! ```
//! use candle_core::{Device, Tensor, Var};
//! use sgbn_estimators::{bernoulli_hard_ste, seeded_rng};
//!
//! let a = Var::from_tensor(&Tensor::new(&[-1f32, 0.0, 2.0], &Device::Cpu)?)?;
//! // Forward: exactly 0 or 1, drawn from the seeded generator.
//! let h = bernoulli_hard_ste(&a, &mut seeded_rng(0))?;
//! assert!(h.to_vec1::<f32>()?.iter().all(|v| *v == 0.0 || *v == 1.0));
//! // Backward: the hard straight-through estimator, dh/da = 1.
//! let grads = h.sum_all()?.backward()?;
//! assert_eq!(grads.get(&a).ok_or("no gradient")?.to_vec1::<f32>()?, vec![1.0; 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod binary_estimator;
mod clip_gradient;
mod deterministic;
mod error;
mod fused_bernoulli;
mod gradient_coverage;
mod reinforce;
mod sign;
mod slope;
mod stochastic_binary;
mod uniform;

pub use binary_estimator::BinaryEstimator;
pub use clip_gradient::clip_gradient;
pub use deterministic::{deterministic_binary, sigmoid_probability};
pub use error::{EstimatorError, Result};
pub use gradient_coverage::GradientCoverage;
pub use reinforce::{ReinforceBaseline, ReinforceBaselineConfig, ReinforceSample};
pub use sign::{SignGradient, binarize_sign, hard_sigmoid, sign_ste, stochastic_sign_ste};
pub use slope::SlopeSchedule;
pub use stochastic_binary::{bernoulli_hard_ste, bernoulli_hard_ste_reference, bernoulli_soft_ste};
pub use uniform::uniform_like;

/// The seedable generator used throughout sgbn (ChaCha with 8 rounds): fast,
/// portable, and reproducible across platforms for the same seed.
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// The trait that gives [`SeededRng::seed_from_u64`], re-exported so that a
/// user needs no `rand` dependency of their own (and cannot pick a `rand`
/// version whose trait does not match).
pub use rand::SeedableRng;

/// A [`SeededRng`] from `seed`: the same seed gives the same stream, bit for
/// bit, on every platform.
///
/// ```
/// let mut a = sgbn_estimators::seeded_rng(7);
/// let mut b = sgbn_estimators::seeded_rng(7);
/// let x = candle_core::Tensor::zeros(4, candle_core::DType::F32, &candle_core::Device::Cpu)?;
/// let ua = sgbn_estimators::uniform_like(&x, &mut a)?;
/// let ub = sgbn_estimators::uniform_like(&x, &mut b)?;
/// assert_eq!(ua.to_vec1::<f32>()?, ub.to_vec1::<f32>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn seeded_rng(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}
