//! # sgbn
//!
//! The sgbn crates behind one dependency, each a module, with a
//! [`prelude`] of what attacking a candle model of one's own needs. The
//! single crates (`sgbn-estimators`, `sgbn-layers`, `sgbn-models`,
//! `sgbn-attacks`, `sgbn-defenses`, `sgbn-metrics`, `sgbn-data`,
//! `sgbn-eval`) stay usable alone; features choose the parts (default:
//! `attacks`, `metrics`, `data`; `full` for all).
//!
//! ## Quick start: EOT-PGD on a stochastic model of your own
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use sgbn::prelude::*;
//!
//! // A randomized "defense": a linear model whose inputs are masked by a
//! // fresh Bernoulli(0.5) draw from the caller's generator on every pass.
//! let w = sgbn::estimators::uniform_like(&Tensor::zeros((4, 3), DType::F32, &Device::Cpu)?, &mut seeded_rng(1))?;
//! let logits = |x: &Tensor, rng: &mut SeededRng| -> candle_core::Result<Tensor> {
//!     let keep = sgbn::estimators::uniform_like(x, rng)?.ge(0.5)?.to_dtype(DType::F32)?;
//!     (x * keep)?.flatten_from(1)?.matmul(&w)
//! };
//! let victim = victim_fn(3, logits).stochastic();
//! let x = Tensor::full(0.5f32, (2, 1, 2, 2), &Device::Cpu)?; // two 2×2 images
//! let y = Tensor::new(&[0u32, 2], &Device::Cpu)?;
//! // PGD with its gradient averaged over 8 draws of the randomness (EOT).
//! let pgd = GradientAttack::pgd(0.1, 0.025, 10)?.with_eot(8)?;
//! let out = pgd.perturb(&victim, &Batch::new(&x, &y)?, &mut seeded_rng(0))?;
//! let moved = (out.adversarial - &x)?.abs()?.max_all()?.to_scalar::<f32>()?;
//! assert!(moved <= 0.1 + 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/eot_own_gated_model.rs` does the same on a gated conv net
//! built from [`layers`], with the gradient-free Square attack as the
//! control, `?` on every error.

#![deny(missing_docs)]

pub use sgbn_estimators as estimators;
pub use sgbn_layers as layers;

#[cfg(feature = "attacks")]
pub use sgbn_attacks as attacks;
#[cfg(feature = "data")]
pub use sgbn_data as data;
#[cfg(feature = "defenses")]
pub use sgbn_defenses as defenses;
#[cfg(feature = "eval")]
pub use sgbn_eval as eval;
#[cfg(feature = "metrics")]
pub use sgbn_metrics as metrics;
#[cfg(feature = "models")]
pub use sgbn_models as models;
#[cfg(feature = "onnx")]
pub use sgbn_onnx as onnx;

/// What attacking a model of one's own needs, in one `use`.
pub mod prelude {
    pub use sgbn_estimators::{SeedableRng, SeededRng, seeded_rng};
    pub use sgbn_layers::{
        GateConfig, GateModule, MaskedConv2d, MaskedConv2dConfig, SeededVarMap, dense, gate_module,
        masked_conv2d,
    };

    #[cfg(feature = "attacks")]
    pub use sgbn_attacks::{
        Apgd, ApgdConfig, ApgdLoss, Attack, AttackSuite, Batch, GradientAttack, Perturbed,
        SquareAttack, SquareAttackConfig, Victim, attack_dataset, victim_fn,
    };
    #[cfg(feature = "data")]
    pub use sgbn_data::{Dataset, load_mnist, resolve_mnist_dir};
    #[cfg(feature = "metrics")]
    pub use sgbn_metrics::{Passes, RepeatedAccuracy};
}
