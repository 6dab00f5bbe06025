//! What a model will need in memory, estimated from its spec before it is
//! built, so that a command can refuse a geometry that would exhaust the
//! machine instead of being killed by the kernel.

use crate::ModelSpec;

/// Bytes per `f32`.
const F32: u64 = 4;
/// Copies of each parameter while training: the value, its gradient and
/// Adam's two moments.
const TRAINING_COPIES: u64 = 4;
/// Tensors of each activation's size kept for the backward pass (the
/// output of a conv / dense product, its batch norm, its nonlinearity,
/// and their gradients); an upper estimate, not an exact count.
const ACTIVATION_COPIES: u64 = 6;

/// The estimate of [`ModelSpec::memory_estimate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Parameters of the model (every trainable weight and bias).
    pub parameters: u64,
    /// Bytes of the parameters while training (value, gradient, Adam's
    /// two moments).
    pub parameter_bytes: u64,
    /// Bytes of one training step's activations on the batch (each gated
    /// layer's per-example masked weights included).
    pub activation_bytes: u64,
    /// Bytes of the serialized checkpoint held in memory while it is
    /// written (the values and Adam's two moments).
    pub checkpoint_bytes: u64,
}

impl MemoryEstimate {
    /// All together: an estimate of a training run's peak memory (a step,
    /// or the checkpoint written after an epoch while the state is held).
    pub fn total_bytes(&self) -> u64 {
        self.parameter_bytes
            .saturating_add(self.activation_bytes.max(self.checkpoint_bytes))
    }
}

impl ModelSpec {
    /// An estimate of the memory a training step on `batch` examples needs.
    /// Parameters are counted exactly (conv, gate and dense weights and
    /// biases, batch-norm scales); activations are each layer's output
    /// times a fixed number of copies kept for the backward pass, and a
    /// gate's mask (eq. 4.1) counts once per example, as the gated
    /// product materializes it. Meant to refuse absurd geometries with a
    /// clear message, not to budget memory precisely.
    pub fn memory_estimate(&self, batch: usize) -> MemoryEstimate {
        // Every product saturates: a spec read from a file may hold any
        // sizes, and a wrapped product would make an absurd model look small.
        let mul = |factors: &[u64]| factors.iter().fold(1u64, |n, &f| n.saturating_mul(f));
        let [mut c, mut h, mut w] = self.input.map(|v| v as u64);
        let batch = batch as u64;
        let mut params: u64 = 0;
        let mut per_example: u64 = mul(&[c, h, w]);
        for conv in &self.convs {
            let (k, s, p) = (conv.kernel as u64, conv.stride as u64, conv.padding as u64);
            let out =
                |n: u64| n.saturating_add(p.saturating_mul(2)).saturating_sub(k) / s.max(1) + 1;
            let (ho, wo) = (out(h), out(w));
            let o = conv.filters as u64;
            let fan_in = mul(&[c, k, k]);
            let l = mul(&[ho, wo]);
            // Weights, bias, and batch norm's scale, shift and statistics.
            let conv_params = mul(&[o, fan_in]).saturating_add(mul(&[5, o]));
            params = params.saturating_add(conv_params);
            per_example = per_example.saturating_add(mul(&[o, l]));
            if let Some(g) = &conv.gate {
                let [h1, h2] = g.hidden.map(|v| v as u64);
                let flat = mul(&[o, l]);
                let gate_params = conv_params
                    .saturating_add(mul(&[flat, h1]).saturating_add(h1))
                    .saturating_add(mul(&[h1, h2]).saturating_add(h2))
                    .saturating_add(mul(&[h2, o, fan_in]).saturating_add(mul(&[o, fan_in])));
                params = params.saturating_add(gate_params);
                // The gate's own activations, then the mask logits, the
                // sampled mask and the masked weights, per example.
                per_example = per_example
                    .saturating_add(flat.saturating_add(h1).saturating_add(h2))
                    .saturating_add(mul(&[3, o, fan_in]));
            }
            (c, h, w) = (o, ho, wo);
        }
        let flat = mul(&[c, h, w]);
        let (hidden, classes) = (self.hidden as u64, self.classes as u64);
        params = params
            .saturating_add(mul(&[flat, hidden]).saturating_add(hidden))
            .saturating_add(mul(&[hidden, classes]).saturating_add(classes));
        per_example =
            per_example.saturating_add(flat.saturating_add(hidden).saturating_add(classes));
        MemoryEstimate {
            parameters: params,
            parameter_bytes: params.saturating_mul(F32 * TRAINING_COPIES),
            checkpoint_bytes: params.saturating_mul(F32 * 3),
            activation_bytes: per_example
                .saturating_mul(batch)
                .saturating_mul(F32 * ACTIVATION_COPIES),
        }
    }
}
