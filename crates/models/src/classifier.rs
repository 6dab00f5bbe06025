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

    /// What each gate did in the last forward pass (`None` for ungated
    /// layers), in layer order.
    fn gate_traces(&self) -> Vec<Option<GateTrace>>;

    /// The parameters an optimizer updates, sorted by name.
    fn trainable(&self) -> Vec<(String, Var)>;

    /// Every tensor of the model's state (parameters and buffers such as
    /// batch-norm running statistics), sorted by name: what a checkpoint holds.
    fn state(&self) -> Vec<(String, Var)>;
}
