//! Serializable model specifications and the named models of the thesis.

use serde::{Deserialize, Serialize};
use sgbn_layers::{GateActivation, GateOutput};

use crate::{ModelError, Result};

/// The unit after the hidden dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenseUnit {
    /// ReLU (CNN, SGBN-ReLU).
    Relu,
    /// Stochastic binary `1[u < σ(m·a)]` with the soft STE and the annealed
    /// slope `m` (CNN-BIN, SGBN; eq. 2.12–2.13).
    StochasticBinary,
}

/// The gate of one conv layer (Tables 4.1–4.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateSpec {
    /// Widths of the two hidden dense layers.
    pub hidden: [usize; 2],
    /// Activation of the second hidden layer.
    pub activation: GateActivation,
    /// Mask binarizer: ST (hard STE), DT (σ), ±1.
    pub output: GateOutput,
    /// Dropout after each hidden layer in training (authors' code: 0.5).
    pub dropout: f64,
    /// `None`: Glorot uniform; `Some(a)`: `U(−a, a)` (authors' code: 1).
    pub uniform_bound: Option<f64>,
    /// The gate conv shares the main conv's weights (1W-SGBN, §4.6.3).
    pub share_weights: bool,
}

impl GateSpec {
    /// The thesis's gate with the given second activation (asinh for gate 1,
    /// tanh for gate 2) and hard-STE masks.
    pub fn thesis(activation: GateActivation) -> Self {
        Self {
            hidden: [512, 512],
            activation,
            output: GateOutput::HardSte,
            dropout: 0.0,
            uniform_bound: None,
            share_weights: false,
        }
    }
}

/// One conv layer of the main network (followed by batch norm and ReLU).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvSpec {
    /// Number of filters.
    pub filters: usize,
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side (the authors' code: 0, VALID).
    pub padding: usize,
    /// The gate that masks this layer's weights, if any.
    pub gate: Option<GateSpec>,
    /// Random weight masks instead of a gate (DropConnect, random masking;
    /// §4.7, Table 4.8), in training and at test.
    #[serde(default)]
    pub random_mask: Option<RandomMaskSpec>,
}

/// Bernoulli weight masks of a conv layer (see `sgbn_layers::RandomWeightMask`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomMaskSpec {
    /// Probability that a weight is kept.
    pub keep: f64,
    /// One mask per sample (random masking) or per batch (DropConnect).
    pub per_sample: bool,
}

/// A whole model: conv layers → flatten → dense `hidden` → unit → dense
/// `classes` (softmax cross-entropy on the logits). §4.3.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The report's row label (e.g. "SGBN").
    pub name: String,
    /// Input `[C, H, W]`.
    pub input: [usize; 3],
    /// Number of classes.
    pub classes: usize,
    /// The conv layers.
    pub convs: Vec<ConvSpec>,
    /// Width of the hidden dense layer (100 on MNIST).
    pub hidden: usize,
    /// The unit after it.
    pub dense_unit: DenseUnit,
    /// Stochastic activation pruning after each conv layer's ReLU (SAP
    /// model, §4.3.1; eq. 2.23–2.25).
    #[serde(default)]
    pub sap: bool,
}

/// Names accepted by [`ModelSpec::named`].
pub const MODEL_NAMES: [&str; 11] = [
    "cnn",
    "cnn-bin",
    "sgbn",
    "sgbn-dt",
    "sgbn-relu",
    "1w-sgbn",
    "sgbn-pm1",
    "sap",
    "dropconnect",
    "random-mask",
    "1-layer-sgbn",
];

impl ModelSpec {
    /// The MNIST main network of §4.3.1: conv 32@5×5 stride 2, conv 64@5×5
    /// stride 2 (VALID padding, as in the authors' code: 28→12→4), dense 100,
    /// dense 10; no gates, ReLU dense unit (the CNN).
    pub fn mnist_cnn() -> Self {
        let conv = |filters| ConvSpec {
            filters,
            kernel: 5,
            stride: 2,
            padding: 0,
            gate: None,
            random_mask: None,
        };
        Self {
            name: "CNN".into(),
            input: [1, 28, 28],
            classes: 10,
            convs: vec![conv(32), conv(64)],
            hidden: 100,
            dense_unit: DenseUnit::Relu,
            sap: false,
        }
    }

    /// A model of the thesis by name (see [`MODEL_NAMES`]), MNIST sizes.
    pub fn named(name: &str) -> Result<Self> {
        let mut spec = Self::mnist_cnn();
        let gates = |spec: &mut Self, f: &dyn Fn(&mut GateSpec)| {
            let acts = [GateActivation::Asinh, GateActivation::Tanh];
            for (conv, act) in spec.convs.iter_mut().zip(acts) {
                let mut gate = GateSpec::thesis(act);
                f(&mut gate);
                conv.gate = Some(gate);
            }
        };
        match name.to_ascii_lowercase().as_str() {
            "cnn" => {}
            "cnn-bin" => {
                spec.name = "CNN-BIN".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
            }
            "sgbn" | "sgbn-st" => {
                spec.name = "SGBN".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                gates(&mut spec, &|_| {});
            }
            "sgbn-dt" => {
                spec.name = "SGBN (DT)".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                gates(&mut spec, &|g| g.output = GateOutput::Sigmoid);
            }
            "sgbn-relu" => {
                spec.name = "SGBN-ReLU".into();
                gates(&mut spec, &|_| {});
            }
            "1w-sgbn" => {
                spec.name = "1W-SGBN".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                gates(&mut spec, &|g| g.share_weights = true);
            }
            "sgbn-pm1" => {
                spec.name = "SGBN ±1".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                gates(&mut spec, &|g| g.output = GateOutput::StochasticSign);
            }
            "1-layer-sgbn" => {
                // Table 4.7: one gated conv 32@5×5, dense 100 stochastic
                // binary, dense 10.
                spec.name = "1-layer-SGBN".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                spec.convs.truncate(1);
                spec.convs[0].gate = Some(GateSpec::thesis(GateActivation::Asinh));
            }
            "sap" => {
                spec.name = "SAP".into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                spec.sap = true;
            }
            "dropconnect" | "random-mask" => {
                let per_sample = name.eq_ignore_ascii_case("random-mask");
                spec.name = if per_sample {
                    "Random Mask"
                } else {
                    "DropConnect"
                }
                .into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                // §4.7: about 40 % / 50 % of SGBN's first / second layer
                // weights are off, so keep 0.6 / 0.5.
                for (conv, keep) in spec.convs.iter_mut().zip([0.6, 0.5]) {
                    conv.random_mask = Some(RandomMaskSpec { keep, per_sample });
                }
            }
            _ => {
                return Err(ModelError::UnknownModel {
                    name: name.to_string(),
                    known: MODEL_NAMES.join(", "),
                });
            }
        }
        Ok(spec)
    }

    /// The same model with `padding` on every conv layer.
    pub fn with_padding(mut self, padding: usize) -> Self {
        for c in &mut self.convs {
            c.padding = padding;
        }
        self
    }

    /// Whether the model samples at evaluation time (its stochastic units
    /// keep sampling, as in the thesis).
    pub fn is_stochastic(&self) -> bool {
        self.dense_unit == DenseUnit::StochasticBinary
            || self.sap
            || self.convs.iter().any(|c| c.random_mask.is_some())
            || self.convs.iter().any(|c| {
                c.gate
                    .as_ref()
                    .is_some_and(|g| g.output != GateOutput::Sigmoid)
            })
    }

    /// Checks sizes and options; returns the spatial size after each conv.
    pub fn validate(&self) -> Result<Vec<(usize, usize)>> {
        let bad = |why: String| Err(ModelError::InvalidSpec(format!("{}: {why}", self.name)));
        if self.input.contains(&0) || self.classes < 2 || self.hidden == 0 || self.convs.is_empty()
        {
            return bad("input, classes (≥ 2), hidden and conv list must be non-empty".into());
        }
        let (mut h, mut w) = (self.input[1], self.input[2]);
        let mut sizes = Vec::new();
        for (i, c) in self.convs.iter().enumerate() {
            if c.filters == 0 || c.kernel == 0 || c.stride == 0 {
                return bad(format!("conv {i}: filters, kernel and stride must be > 0"));
            }
            if c.kernel > h + 2 * c.padding || c.kernel > w + 2 * c.padding {
                return bad(format!(
                    "conv {i}: kernel {} does not fit {h}×{w}",
                    c.kernel
                ));
            }
            if c.gate.is_some() && c.random_mask.is_some() {
                return bad(format!(
                    "conv {i}: a gate and a random mask exclude each other"
                ));
            }
            if let Some(m) = &c.random_mask
                && !(m.keep > 0.0 && m.keep <= 1.0)
            {
                return bad(format!(
                    "conv {i}: keep probability {} not in (0, 1]",
                    m.keep
                ));
            }
            if let Some(g) = &c.gate {
                if !(0.0..1.0).contains(&g.dropout) || g.hidden.contains(&0) {
                    return bad(format!(
                        "conv {i}: gate dropout in [0, 1), hidden widths > 0"
                    ));
                }
            }
            h = (h + 2 * c.padding - c.kernel) / c.stride + 1;
            w = (w + 2 * c.padding - c.kernel) / c.stride + 1;
            sizes.push((h, w));
        }
        Ok(sizes)
    }
}
