//! # sgbn-attacks
//!
//! Adversarial attacks behind one [`Attack`] trait (thesis §2.4), against any
//! differentiable [`Victim`] (every `sgbn-models` classifier through
//! [`EvalClassifier`]):
//!
//! - [`GradientAttack`]: FGSM (eq. 2.26), BIM (eq. 2.27), ILL (eq. 2.28) and
//!   PGD with random start, targeted or not ([`Goal`]), projected onto the
//!   ε-ball and `[0, 1]` after each step (CleverHans, as the thesis used; the
//!   literal formula is [`GradientAttack::literal`]);
//! - expectation over transformation: every gradient can be averaged over K
//!   draws of the model's randomness ([`GradientAttack::with_eot`],
//!   [`loss_gradient`]);
//! - [`Apgd`]: APGD-CE, APGD-DLR and APGD-T (Croce & Hein 2020), PGD whose
//!   step size adapts itself, on the cross-entropy or the DLR loss
//!   ([`dlr_loss`], which does not vanish on a saturated softmax), with EOT;
//! - [`SquareAttack`]: score-based, gradient-free (Andriushchenko et al. 2020),
//!   the check that a stochastic defense is robust rather than masking its
//!   gradients;
//! - [`AttackSuite`]: attacks in turn on the images still classified
//!   correctly, as AutoAttack runs them (its `standard` and `rand` versions:
//!   [`AttackSuite::autoattack`]); an image is robust only if it survives
//!   every attack;
//! - [`transfer_matrix`]: craft on one model, evaluate on others.
//!
//! Attacks run the model in evaluation mode, never modify their input, work
//! on batches, draw the model's randomness from the caller's generator and
//! their own random choices from per-example generators ([`example_rng`]), so
//! a deterministic model gets the same adversarial example for an image
//! whatever batch it is in.
//!
//! ## Quick start
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use sgbn_attacks::{Attack, Batch, EvalClassifier, GradientAttack};
//! use sgbn_models::{ConvNet, ModelSpec};
//!
//! let model = ConvNet::new(&ModelSpec::named("cnn")?, 0, &Device::Cpu)?;
//! let victim = EvalClassifier::new(&model, 1.0); // or `victim_fn` for a model of your own
//! let x = Tensor::full(0.5f32, (4, 1, 28, 28), &Device::Cpu)?;
//! let y = Tensor::new(&[0u32, 1, 2, 3], &Device::Cpu)?;
//! let fgsm = GradientAttack::fgsm(0.1)?;
//! let out = fgsm.perturb(&victim, &Batch::new(&x, &y)?, &mut sgbn_estimators::seeded_rng(0))?;
//! let moved = (&out.adversarial - &x)?.abs()?.max_all()?.to_scalar::<f32>()?;
//! assert!(moved <= 0.1 + 1e-6); // within the budget ε
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod apgd;
mod attack;
mod batch;
mod dataset;
mod error;
mod example_rng;
mod goal;
mod gradient;
mod gradient_attack;
mod label_source;
mod loss;
mod square;
mod suite;
mod transfer;
mod transfer_attack;
mod victim;

pub use apgd::{APGD_MOMENTUM, Apgd, ApgdConfig, ApgdLoss};
pub use attack::Attack;
pub use batch::{Batch, Perturbed};
pub use dataset::{attack_dataset, attack_dataset_with_progress, predict_dataset};
pub use error::{AttackError, Result};
pub use example_rng::example_rng;
pub use goal::Goal;
pub use gradient::{loss_gradient, objective_gradient, own_prediction_gradient};
pub use gradient_attack::{GradientAttack, GradientAttackConfig, Projection};
pub use label_source::LabelSource;
pub use loss::{cross_entropy_per_example, dlr_loss, margins, targeted_dlr_loss};
pub use square::{SQUARE_CONFIRM_DRAWS, SquareAttack, SquareAttackConfig, SquareOutcome};
pub use suite::{
    AttackSuite, RAND_EOT_SAMPLES, STANDARD_SQUARE_QUERIES, SUITE_JUDGE_PASSES, SuiteOutcome,
    SuiteVersion,
};
pub use transfer::{TransferMatrix, transfer_matrix};
pub use transfer_attack::TransferAttack;
pub use victim::{EvalClassifier, Victim, VictimFn, victim_fn};
