//! The toy regression networks of §4.6.5 (Tables 4.9–4.10, Fig. 4.26).

use std::sync::Mutex;

use candle_core::{DType, Device, Module, Tensor, Var};
use serde::{Deserialize, Serialize};
use sgbn_estimators::{SeededRng, bernoulli_hard_ste};
use sgbn_layers::{Dense, DenseConfig, SeededVarMap, dense};

use crate::{ModelError, Result};

/// The gate of a toy network: a perceptron that masks the two
/// hidden → output weights per input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToyGate {
    /// The gate also sees the two masked weights (the thesis's "original
    /// model with weight inputs", GM; without: GMWOW): a 4 × 2 perceptron
    /// instead of 2 × 2 (Table 4.10).
    pub weight_inputs: bool,
    /// Stochastic binary masks with the hard STE (ST) or σ(a) (DT).
    pub stochastic: bool,
}

/// Names accepted by [`ToySpec::named`], with the thesis's labels
/// (Fig. 4.27): `toy-mlp` (WOGM), `toy-gm-st`, `toy-gm-dt`, `toy-gmwow-st`,
/// `toy-gmwow-dt`.
pub const TOY_NAMES: [&str; 5] = [
    "toy-mlp",
    "toy-gm-st",
    "toy-gm-dt",
    "toy-gmwow-st",
    "toy-gmwow-dt",
];

/// A toy network: 1 → 2 (tanh) → 1 (linear), optionally gated (Table 4.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToySpec {
    /// The gate on the hidden → output weights, if any.
    pub gate: Option<ToyGate>,
}

impl ToySpec {
    /// A toy network by name (see [`TOY_NAMES`]).
    pub fn named(name: &str) -> Result<Self> {
        let gate = |weight_inputs, stochastic| {
            Some(ToyGate {
                weight_inputs,
                stochastic,
            })
        };
        let gate = match name.to_ascii_lowercase().as_str() {
            "toy-mlp" => None,
            "toy-gm-st" => gate(true, true),
            "toy-gm-dt" => gate(true, false),
            "toy-gmwow-st" => gate(false, true),
            "toy-gmwow-dt" => gate(false, false),
            _ => {
                return Err(ModelError::UnknownModel {
                    name: name.into(),
                    known: TOY_NAMES.join(", "),
                });
            }
        };
        Ok(Self { gate })
    }

    /// The label of Fig. 4.27.
    pub fn label(&self) -> &'static str {
        match self.gate {
            None => "WOGM",
            Some(ToyGate {
                weight_inputs: true,
                stochastic: true,
            }) => "GM_ST",
            Some(ToyGate {
                weight_inputs: true,
                stochastic: false,
            }) => "GM_DT",
            Some(ToyGate {
                weight_inputs: false,
                stochastic: true,
            }) => "GMWOW_ST",
            Some(ToyGate {
                weight_inputs: false,
                stochastic: false,
            }) => "GMWOW_DT",
        }
    }
}

/// The toy network: `h = tanh(x·W₁ + b₁)` (2 units), gate logits
/// `a = [h, w₂ᵀ]·G + c` (with weight inputs) or `h·G + c`, masks `m`
/// (hard-STE binary or σ(a)), output `y = Σⱼ hⱼ·mⱼ·w₂ⱼ + b₂`: sample `b`
/// uses its own masked weights `w₂ ⊙ m_b`, as in eq. 4.1. Parameters
/// `hidden.*`, `output.*`, `gate.*`; Glorot-uniform weights, zero biases,
/// from the seed.
#[derive(Debug)]
pub struct ToyNet {
    spec: ToySpec,
    hidden: Dense,
    output: Dense,
    gate: Option<Dense>,
    last_masks: Mutex<Option<Tensor>>,
    last_probabilities: Mutex<Option<Tensor>>,
    vars: SeededVarMap,
}

impl ToyNet {
    /// Builds `spec` with parameters drawn from `seed`.
    pub fn new(spec: ToySpec, seed: u64, device: &Device) -> Result<Self> {
        let vars = SeededVarMap::new(seed);
        let vb = vars.var_builder(DType::F32, device);
        let hidden = dense(1, 2, DenseConfig::default(), vb.pp("hidden"))?;
        let output = dense(2, 1, DenseConfig::default(), vb.pp("output"))?;
        let gate = spec
            .gate
            .map(|g| {
                let inputs = if g.weight_inputs { 4 } else { 2 };
                dense(inputs, 2, DenseConfig::default(), vb.pp("gate"))
            })
            .transpose()?;
        Ok(Self {
            spec,
            hidden,
            output,
            gate,
            last_masks: Mutex::new(None),
            last_probabilities: Mutex::new(None),
            vars,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &ToySpec {
        &self.spec
    }

    /// Every parameter, sorted by name.
    pub fn trainable(&self) -> Vec<(String, Var)> {
        self.vars.vars()
    }

    /// The masks `(n, 2)` of the last forward pass (gated networks).
    pub fn last_masks(&self) -> Option<Tensor> {
        self.last_masks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The gate's probabilities σ(a) `(n, 2)` of the last forward pass
    /// (gated networks; for a stochastic gate, before its masks are drawn).
    pub fn last_probabilities(&self) -> Option<Tensor> {
        self.last_probabilities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Predictions `(n, 1)` for inputs `x` `(n, 1)`; stochastic gates draw
    /// from `rng`.
    pub fn forward(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        if x.rank() != 2 || x.dim(1)? != 1 {
            return Err(ModelError::InvalidSpec(format!(
                "toy networks take inputs (n, 1), got {:?}",
                x.dims()
            )));
        }
        let h = self.hidden.forward(x)?.tanh()?;
        let (Some(gate), Some(g)) = (&self.gate, self.spec.gate) else {
            return Ok(self.output.forward(&h)?);
        };
        let w2 = self.output.weight(); // (2, 1)
        let input = if g.weight_inputs {
            let n = h.dim(0)?;
            let w = w2.t()?.broadcast_as((n, 2))?;
            Tensor::cat(&[&h, &w], 1)?
        } else {
            h.clone()
        };
        let a = gate.forward(&input)?;
        let m = if g.stochastic {
            bernoulli_hard_ste(&a, rng)?
        } else {
            candle_nn::ops::sigmoid(&a)?
        };
        *self.last_masks.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.detach());
        *self
            .last_probabilities
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(candle_nn::ops::sigmoid(&a.detach())?);
        let y = (h * m)?.matmul(w2)?;
        Ok(match self.output.bias() {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        })
    }
}
