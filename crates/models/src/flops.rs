//! Analytic floating-point operation counts, for benchmarks (achieved
//! GFLOP/s) and cost estimates.

use crate::ModelSpec;

/// Multiply–add counts (×2 = FLOPs) of the matrix products of one
/// example's forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlopCount {
    /// Main conv layers.
    pub convs: u64,
    /// Gate networks (their conv and three dense layers).
    pub gates: u64,
    /// Hidden and output dense layers.
    pub dense: u64,
}

impl FlopCount {
    /// All FLOPs of one example's forward pass.
    pub fn total(&self) -> u64 {
        self.convs + self.gates + self.dense
    }
}

impl ModelSpec {
    /// FLOPs of the matrix products of one example's forward pass (2 per
    /// multiply–add; element-wise work, batch norm and the estimators are
    /// left out). A conv of `O` filters over `P = C·k·k` inputs at `L`
    /// output positions costs `2·O·P·L`; a dense `n → m` layer `2·n·m`; a
    /// gate (Fig. 4.2) its conv plus dense `flat → h1 → h2 → O·P`.
    /// `flat` is the gate conv's output size, `O·L`.
    pub fn forward_flops(&self) -> FlopCount {
        let [mut c, mut h, mut w] = self.input;
        let mut count = FlopCount::default();
        for conv in &self.convs {
            let out =
                |n: usize| (n + 2 * conv.padding).saturating_sub(conv.kernel) / conv.stride + 1;
            let (ho, wo) = (out(h), out(w));
            let (o, p, l) = (conv.filters, c * conv.kernel * conv.kernel, ho * wo);
            let conv_flops = 2 * (o * p * l) as u64;
            count.convs += conv_flops;
            if let Some(g) = &conv.gate {
                let flat = o * l;
                let [h1, h2] = g.hidden;
                // With shared weights (1W) the gate still runs the conv.
                count.gates += conv_flops + 2 * (flat * h1 + h1 * h2 + h2 * o * p) as u64;
            }
            (c, h, w) = (o, ho, wo);
        }
        let flat = c * h * w;
        count.dense += 2 * (flat * self.hidden + self.hidden * self.classes) as u64;
        count
    }

    /// FLOPs of one training step on `batch` examples: forward plus the
    /// two products of every layer's backward pass (input and weight
    /// gradients), `3 × forward`.
    pub fn training_step_flops(&self, batch: usize) -> u64 {
        3 * self.forward_flops().total() * batch as u64
    }

    /// FLOPs of FGSM on `batch` examples: the gradient pass (forward plus
    /// backward to the input, `2 × forward`) and the judging forward pass,
    /// `3 × forward`.
    pub fn fgsm_flops(&self, batch: usize) -> u64 {
        3 * self.forward_flops().total() * batch as u64
    }
}
