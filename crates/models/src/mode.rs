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
}

impl ForwardContext {
    /// Training at slope `slope`.
    pub fn train(slope: f64) -> Self {
        Self {
            mode: Mode::Train,
            slope,
            shuffle_gate_masks: false,
        }
    }

    /// Evaluation at slope `slope` (the last training slope).
    pub fn eval(slope: f64) -> Self {
        Self {
            mode: Mode::Eval,
            slope,
            shuffle_gate_masks: false,
        }
    }

    /// The same context with gate masks shuffled among the batch.
    pub fn with_shuffled_gate_masks(mut self) -> Self {
        self.shuffle_gate_masks = true;
        self
    }
}
