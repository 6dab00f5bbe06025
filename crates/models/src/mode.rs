//! How a forward pass is run.

/// Training or evaluation.
///
/// In evaluation, batch norm uses its running statistics and dropout is off,
/// but **stochastic units keep sampling** unless the model is deterministic,
/// as in the thesis (its SGBN samples its gates at test time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Training: batch statistics, running averages updated.
    Train,
    /// Evaluation: running statistics.
    Eval,
}

impl Mode {
    /// Whether this is training.
    pub fn is_train(self) -> bool {
        self == Self::Train
    }
}

/// Everything a forward pass needs besides the input and the generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForwardContext {
    /// Training or evaluation.
    pub mode: Mode,
    /// Slope `m` of the soft-STE binary units (eq. 2.12), from a
    /// `SlopeSchedule`; 1 outside training.
    pub slope: f64,
    /// Hand each sample the gate masks computed for another sample of the
    /// batch (a random derangement drawn from the forward generator): the
    /// "SGBN with shuffled activations" of §4.7 (Fig. 4.24, Table 4.8).
    pub shuffle_gate_masks: bool,
    /// Parts whose backward pass is replaced by the identity (BPDA); the
    /// forward pass is the same.
    pub bpda: Bpda,
}

/// Backward Pass Differentiable Approximation (Athalye et al. 2018): which
/// non-differentiable or saturating parts an attack differentiates as the
/// identity, without changing what the model computes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct Bpda {
    /// The hidden dense layer's binary unit: `∂h/∂a = 1` instead of the
    /// soft STE `m·σ(ma)(1 − σ(ma))`, which is 0 or tiny in f32 where
    /// `|m·a|` is large.
    pub dense_unit: bool,
    /// The gates (see `sgbn_layers::GateBpda`).
    pub gate: sgbn_layers::GateBpda,
}

impl Bpda {
    /// Every part at once.
    pub fn all() -> Self {
        Self {
            dense_unit: true,
            gate: sgbn_layers::GateBpda {
                sampling: true,
                activation: true,
            },
        }
    }

    /// Whether any part is replaced.
    pub fn any(&self) -> bool {
        *self != Self::default()
    }
}

impl ForwardContext {
    /// Training at slope `slope`.
    pub fn train(slope: f64) -> Self {
        Self {
            mode: Mode::Train,
            slope,
            shuffle_gate_masks: false,
            bpda: Bpda::default(),
        }
    }

    /// Evaluation at slope `slope` (the last training slope).
    pub fn eval(slope: f64) -> Self {
        Self {
            mode: Mode::Eval,
            slope,
            shuffle_gate_masks: false,
            bpda: Bpda::default(),
        }
    }

    /// The same context with the backward pass of `bpda`'s parts replaced by
    /// the identity.
    pub fn with_bpda(mut self, bpda: Bpda) -> Self {
        self.bpda = bpda;
        self
    }

    /// The same context with gate masks shuffled among the batch.
    pub fn with_shuffled_gate_masks(mut self) -> Self {
        self.shuffle_gate_masks = true;
        self
    }
}
