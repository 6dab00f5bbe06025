//! The model under attack: anything that maps images to logits
//! differentiably, with its randomness drawn from the caller's generator.

use candle_core::Tensor;
use sgbn_estimators::SeededRng;
use sgbn_models::{Bpda, Classifier, ForwardContext, Gated};

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

    /// Whether two passes on the same input can give different logits;
    /// `false` unless a victim says otherwise. Gradient attacks take EOT and
    /// repeat counts explicitly; the Square attack reads it to confirm a
    /// success by fresh passes ([`SquareAttackConfig::confirm_draws`](crate::SquareAttackConfig)),
    /// so a stochastic victim of your own should say so.
    fn is_stochastic(&self) -> bool {
        false
    }

    /// Number of classes (columns of the logits).
    fn num_classes(&self) -> usize;

    /// This victim with the randomness it draws from the input held fixed
    /// at `x` (SGBN's gate masks, drawn once on the clean batch, one mask
    /// per example), for attacks that craft against fixed masks while the
    /// evaluation draws fresh ones. `None` (the default): nothing to fix.
    fn fixed_at(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Option<Box<dyn Victim + '_>>> {
        let _ = (x, rng);
        Ok(None)
    }
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

    /// The same model with the backward pass of `bpda`'s parts replaced by
    /// the identity (BPDA, Athalye et al. 2018); its forward pass, and so
    /// every prediction, is unchanged.
    pub fn with_bpda(mut self, bpda: Bpda) -> Self {
        self.ctx = self.ctx.with_bpda(bpda);
        self
    }

    /// The wrapped model.
    pub fn model(&self) -> &'a dyn Classifier {
        self.model
    }
}

/// A gated model whose masks were drawn once ([`Victim::fixed_at`]).
struct FixedMasks<'a> {
    model: &'a dyn Classifier,
    gates: &'a dyn Gated,
    ctx: ForwardContext,
    masks: Vec<Option<Tensor>>,
}

impl Victim for FixedMasks<'_> {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        Ok(self
            .gates
            .forward_with_gate_masks(x, self.ctx, &self.masks, rng)?)
    }

    fn is_stochastic(&self) -> bool {
        self.model.is_stochastic()
    }

    fn num_classes(&self) -> usize {
        self.model.spec().classes
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

    /// For a gated model: one forward pass on `x` draws the masks, which the
    /// returned victim then uses for every input of the same batch size.
    fn fixed_at(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Option<Box<dyn Victim + '_>>> {
        let Some(gates) = self.model.as_gated() else {
            return Ok(None);
        };
        self.model.forward(&x.detach(), self.ctx, rng)?;
        let masks: Vec<Option<Tensor>> = gates
            .gate_traces()
            .into_iter()
            .map(|t| t.map(|t| t.masks))
            .collect();
        Ok(Some(Box::new(FixedMasks {
            model: self.model,
            gates,
            ctx: self.ctx,
            masks,
        })))
    }
}

/// A [`Victim`] made of a closure: the quickest way to attack a model of
/// your own. Build it with [`victim_fn`].
pub struct VictimFn<F> {
    classes: usize,
    logits: F,
    stochastic: bool,
}

impl<F> VictimFn<F> {
    /// The same victim, declared stochastic ([`Victim::is_stochastic`]):
    /// say so when its logits draw from the generator (dropout, sampled
    /// gates), so that attacks which read it (Square confirms its successes
    /// by fresh passes) treat it as the evaluation does. A `victim_fn` is
    /// deterministic unless declared.
    pub fn stochastic(mut self) -> Self {
        self.stochastic = true;
        self
    }
}

impl<F> std::fmt::Debug for VictimFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VictimFn")
            .field("classes", &self.classes)
            .field("stochastic", &self.stochastic)
            .finish_non_exhaustive()
    }
}

/// A victim of `num_classes` classes whose logits are
/// `logits(x, rng)`; add [`.stochastic()`](VictimFn::stochastic) when they
/// draw from `rng`. The closure may return any error that converts into
/// `Box<dyn Error + Send + Sync>` (candle's, sgbn-layers', your own); it
/// reaches the caller as [`crate::AttackError::Other`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// use sgbn_attacks::{Attack, Batch, GradientAttack, victim_fn};
///
/// // A linear model on 2×2 one-channel images, 2 classes.
/// let w = Tensor::new(&[[1f32, -1.], [1., -1.], [-1., 1.], [-1., 1.]], &Device::Cpu)?;
/// let victim = victim_fn(2, |x: &Tensor, _rng: &mut _| x.flatten_from(1)?.matmul(&w));
/// let x = Tensor::new(&[[[[0.9f32, 0.8], [0.1, 0.2]]]], &Device::Cpu)?;
/// let y = Tensor::new(&[0u32], &Device::Cpu)?;
/// let fgsm = GradientAttack::fgsm(0.4)?;
/// let out = fgsm.perturb(&victim, &Batch::new(&x, &y)?, &mut sgbn_estimators::seeded_rng(0))?;
/// // Class 0 wins by a margin of 2.8 on the clean image; FGSM at ε 0.4
/// // moves each of the 4 pixels against it (margin 2.8 − 4·2·0.4 = −0.4):
/// // now class 1.
/// assert_eq!(out.predictions, vec![1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn victim_fn<F, E>(num_classes: usize, logits: F) -> VictimFn<F>
where
    F: Fn(&Tensor, &mut SeededRng) -> std::result::Result<Tensor, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    VictimFn {
        classes: num_classes,
        logits,
        stochastic: false,
    }
}

impl<F, E> Victim for VictimFn<F>
where
    F: Fn(&Tensor, &mut SeededRng) -> std::result::Result<Tensor, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        (self.logits)(x, rng).map_err(|e| crate::AttackError::Other(e.into()))
    }

    fn num_classes(&self) -> usize {
        self.classes
    }

    fn is_stochastic(&self) -> bool {
        self.stochastic
    }
}
