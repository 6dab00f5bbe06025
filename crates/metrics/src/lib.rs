//! # sgbn-metrics
//!
//! Metrics of chapters 3–4 of the thesis:
//!
//! - [`RunSummary`]: mean ± std over runs; [`train_test_gap`];
//! - [`RepeatedAccuracy`]: accuracy over R stochastic passes (mean, std,
//!   majority vote, share of unstable predictions);
//! - [`true_class_confidence`] and [`Histogram`] (Fig. 3.3);
//! - [`Distortion`]: ℓ1 (mean absolute) and ℓ∞ change (eq. 2.31, Fig. 4.11);
//! - [`GradientStats`]: histogram and variance of ∇ₓ loss (Fig. 4.16);
//! - [`GateStats`]: share of weights on and the distribution of σ(a)
//!   (Fig. 4.9);
//! - [`SaturationStats`]: how saturated the binary dense unit and the gates
//!   are (σ exactly 0 or 1 in f32, flat tanh / asinh);
//! - [`SanityFlags`]: randomness detected, zero / non-finite input gradients,
//!   saturated units, a gradient-free attack beating the gradient attacks.
//!
//! ## Quick start
//!
//! ```
//! // Mean ± sample standard deviation over runs, as the report prints them.
//! let s = sgbn_metrics::RunSummary::of(&[0.90, 0.92, 0.94])?;
//! assert!((s.mean - 0.92).abs() < 1e-12 && (s.std - 0.02).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod confidence;
mod distortion;
mod error;
mod gate_stats;
mod gradient_stats;
mod histogram;
mod repeated_accuracy;
mod run_summary;
mod sanity;
mod saturation;

pub use confidence::true_class_confidence;
pub use distortion::Distortion;
pub use error::{MetricsError, Result};
pub use gate_stats::GateStats;
pub use gradient_stats::{GradientSampling, GradientStats};
pub use histogram::Histogram;
pub use repeated_accuracy::{Passes, RepeatedAccuracy};
pub use run_summary::{RunSummary, train_test_gap};
pub use sanity::{
    AttackAccuracy, SATURATED_SHARE, SanityEvidence, SanityFlags, significantly_lower,
};
pub use saturation::{SATURATED_SLOPE, SaturationStats};
