//! The model under attack: anything that maps images to logits
//! differentiably, with its randomness drawn from the caller's generator.

use candle_core::Tensor;
use sgbn_estimators::SeededRng;
use sgbn_models::{Classifier, ForwardContext};

use crate::Result;

/// A differentiable classifier as an attack sees it.
///
/// Implemented by [`EvalClassifier`] for every [`Classifier`] of
/// `sgbn-models`; implement it directly for a model of your own.
pub trait Victim {
    /// Logits `(B, classes)` for images `(B, C, H, W)`. Gradients must flow
    /// from the logits back to `x` (through the model's own estimators, e.g.
    /// straight-through binary units). Stochastic units draw from `rng`.
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor>;

    /// Whether two passes on the same input can give different logits.
    fn is_stochastic(&self) -> bool;

    /// Number of classes (columns of the logits).
    fn num_classes(&self) -> usize;
}

/// A [`Classifier`] in evaluation mode: batch norm with running statistics,
/// dropout off, stochastic units still sampling (thesis §4.3: the SGBN
/// samples its gates at test time). Attacks differentiate through the
/// model's straight-through estimators at the given slope.
#[derive(Clone, Copy)]
pub struct EvalClassifier<'a> {
    model: &'a dyn Classifier,
    ctx: ForwardContext,
}

impl std::fmt::Debug for EvalClassifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalClassifier")
            .field("model", &self.model.spec().name)
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl<'a> EvalClassifier<'a> {
    /// `model` in evaluation mode at `slope` (the slope the model ended
    /// training with; it only shapes soft-STE gradients).
    pub fn new(model: &'a dyn Classifier, slope: f64) -> Self {
        Self {
            model,
            ctx: ForwardContext::eval(slope),
        }
    }

    /// The same model with gate masks shuffled among the batch (§4.7).
    pub fn with_shuffled_gate_masks(mut self) -> Self {
        self.ctx = self.ctx.with_shuffled_gate_masks();
        self
    }

    /// The wrapped model.
    pub fn model(&self) -> &'a dyn Classifier {
        self.model
    }
}

impl Victim for EvalClassifier<'_> {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        Ok(self.model.forward(x, self.ctx, rng)?)
    }

    fn is_stochastic(&self) -> bool {
        self.model.is_stochastic() || self.ctx.shuffle_gate_masks
    }

    fn num_classes(&self) -> usize {
        self.model.spec().classes
    }
}
