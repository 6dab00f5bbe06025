//! The interface every model offers to training, attacks and metrics.

use candle_core::{Tensor, Var};
use sgbn_estimators::{ReinforceSample, SeededRng};
use sgbn_layers::GateTrace;

use crate::{ForwardContext, ModelSpec, Result};

/// A differentiable image classifier whose randomness comes from the caller.
pub trait Classifier {
    /// The spec the model was built from.
    fn spec(&self) -> &ModelSpec;

    /// Logits `(B, classes)` for images `(B, C, H, W)`. Stochastic units draw
    /// from `rng`, in training and (unless the model is deterministic) in
    /// evaluation.
    fn forward(&self, x: &Tensor, ctx: ForwardContext, rng: &mut SeededRng) -> Result<Tensor>;

    /// The REINFORCE units drawn by the last training-mode forward pass
    /// (models with a REINFORCE unit; `None` otherwise), taken out so that
    /// the trainer adds their surrogate loss (eq. 2.14–2.16) once.
    fn take_reinforce_sample(&self) -> Option<ReinforceSample> {
        None
    }

    /// Whether two evaluation passes on the same input can differ.
    fn is_stochastic(&self) -> bool {
        self.spec().is_stochastic()
    }

    /// The model's input-dependent gates (SGBN and its variants), for the
    /// attacks and measurements that need them: `None` for a model without
    /// gates.
    fn as_gated(&self) -> Option<&dyn Gated> {
        None
    }

    /// `m·a`, the pre-activation of the hidden dense layer's binary unit
    /// times its slope, from the last forward pass, detached (`None` for
    /// models without one).
    fn dense_unit_input(&self) -> Option<Tensor> {
        None
    }

    /// The parameters an optimizer updates, sorted by name.
    fn trainable(&self) -> Vec<(String, Var)>;

    /// Every tensor of the model's state (parameters and buffers such as
    /// batch-norm running statistics), sorted by name: what a checkpoint holds.
    fn state(&self) -> Vec<(String, Var)>;
}

/// What a model with input-dependent gates offers beyond [`Classifier`]
/// (SGBN's gate modules, eq. 3.1): what the gates drew, and a forward pass
/// with masks given. Asked for with [`Classifier::as_gated`].
pub trait Gated {
    /// What each gate did in the last forward pass (`None` for ungated
    /// layers), in layer order.
    fn gate_traces(&self) -> Vec<Option<GateTrace>>;

    /// [`Classifier::forward`] with the gates' masks given instead of drawn
    /// (`masks[i]` for conv layer `i`, `(B, C_out, C_in, k, k)`; `None` for
    /// an ungated layer): for attacks that hold the masks drawn on the clean
    /// input fixed while crafting.
    fn forward_with_gate_masks(
        &self,
        x: &Tensor,
        ctx: ForwardContext,
        masks: &[Option<Tensor>],
        rng: &mut SeededRng,
    ) -> Result<Tensor>;
}
