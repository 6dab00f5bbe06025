//! Serializable model specifications and the named models of the thesis.

use serde::{Deserialize, Serialize};
use sgbn_estimators::SlopeSchedule;
use sgbn_layers::{
    AdaptiveDropoutMode, BiasInit, BnnBinarization, GateActivation, GateDropoutSites, GateOrder,
    GateOutput, WeightBinarization,
};

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
    /// Deterministic binary `round(σ(m·a))` with the soft-STE gradient (the
    /// DBN of §3.2.1).
    DeterministicBinary,
    /// Stochastic binary `1[u < σ(a)]` trained by REINFORCE with the
    /// variance-minimizing baseline (eq. 2.14–2.16, §3.2.1): no gradient
    /// flows through the sampled units; the trainer adds the REINFORCE
    /// surrogate for the pre-activations (see `Classifier::take_reinforce_sample`).
    Reinforce,
}

/// Adversarial training with PGD (Madry et al. 2018) and the loss mix of
/// eq. 2.29: `τ·L(x) + (1 − τ)·L(x_adv)`, in the last `last_epochs` epochs
/// (the BNN of §4.3.1: ε 0.3, step 0.01, 40 steps, random start, τ 0.5,
/// the last 5 of 25 epochs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdversarialTraining {
    /// ℓ∞ budget.
    pub eps: f64,
    /// Step size.
    pub step: f64,
    /// Number of PGD steps.
    pub steps: usize,
    /// Weight τ of the clean loss (eq. 2.29).
    pub tau: f64,
    /// PGD runs in the last this-many epochs (all of them when the run is
    /// shorter).
    pub last_epochs: usize,
}

impl AdversarialTraining {
    /// The MNIST setting of §4.3.1.
    pub fn thesis_mnist() -> Self {
        Self {
            eps: 0.3,
            step: 0.01,
            steps: 40,
            tau: 0.5,
            last_epochs: 5,
        }
    }
}

/// A gate probe (1st-GM / 2nd-GM, §4.6.2, Fig. 4.17): the masks of gate
/// `gate` of a trained, frozen SGBN feed a new dense output layer, the only
/// trainable part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateProbe {
    /// Which gate (0: the first).
    pub gate: usize,
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
    /// BN before or after the first hidden ReLU (authors' code: before).
    #[serde(default, skip_serializing_if = "is_default")]
    pub order: GateOrder,
    /// Where dropout applies (authors' code: after the state layer only).
    #[serde(default, skip_serializing_if = "is_default")]
    pub dropout_sites: GateDropoutSites,
    /// The gate conv's weights: `None` Glorot uniform, `Some(a)` `U(−a, a)`
    /// (authors' code: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv_uniform_bound: Option<f64>,
    /// The first hidden layer's bias (authors' code: the constant 0.1).
    #[serde(default, skip_serializing_if = "is_default")]
    pub hidden1_bias: BiasInit,
    /// The state and logit layers' biases (authors' code: `U(−1, 1)`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub bias_init: BiasInit,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// How the main network's parameters start: the conv weights, and the
/// weights and biases of the hidden and output dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct InitSpec {
    /// `None`: Glorot uniform (the thesis's text, ch. 3); `Some(a)`:
    /// `U(−a, a)` (the authors' code: 1).
    pub weight_bound: Option<f64>,
    /// The dense biases (authors' code: `U(−1, 1)`).
    pub dense_bias: BiasInit,
}

/// Batch norm of every layer that has one (main convs, gates, BNN layers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchNormSpec {
    /// ε added to the variance (candle-nn's default 1e-5; the authors'
    /// code 1e-4).
    pub eps: f64,
    /// Weight of the batch in the running statistics (0.1: candle-nn's
    /// default, and the authors' exponential moving average with decay
    /// 0.9).
    pub momentum: f64,
}

impl Default for BatchNormSpec {
    fn default() -> Self {
        Self {
            eps: 1e-5,
            momentum: 0.1,
        }
    }
}

impl BatchNormSpec {
    /// The candle-nn configuration.
    pub fn config(&self) -> candle_nn::BatchNormConfig {
        candle_nn::BatchNormConfig {
            eps: self.eps,
            momentum: self.momentum,
            ..Default::default()
        }
    }
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
            order: GateOrder::default(),
            dropout_sites: GateDropoutSites::default(),
            conv_uniform_bound: None,
            hidden1_bias: BiasInit::Zero,
            bias_init: BiasInit::Zero,
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
    /// A BNN layer (`sgbn_layers::BnnConv2d` → scaled ReLU) instead of
    /// conv → BN → ReLU.
    #[serde(default)]
    pub bnn: Option<BnnBinarization>,
    /// Adaptive dropout on this layer's units.
    #[serde(default)]
    pub adaptive_dropout: Option<AdaptiveDropoutMode>,
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
    /// Batch norm after each (non-BNN) conv layer: chapter 4 (§4.3.1) has
    /// it, the chapter-3 networks do not mention it and go without.
    #[serde(default = "yes")]
    pub conv_batch_norm: bool,
    /// Dropout probability after the hidden dense unit, training only
    /// (the chapter-3 dropout experiment).
    #[serde(default)]
    pub dense_dropout: f64,
    /// The hidden dense layer is a BNN layer (`sgbn_layers::BnnDense` →
    /// scaled ReLU); `dense_unit` is then unused.
    #[serde(default)]
    pub hidden_bnn: Option<BnnBinarization>,
    /// PGD adversarial training, part of the model's recipe (BNN with PGD).
    #[serde(default)]
    pub adversarial_training: Option<AdversarialTraining>,
    /// A gate probe on a frozen SGBN (1st-GM / 2nd-GM).
    #[serde(default)]
    pub probe: Option<GateProbe>,
    /// Initial values of the main network (default: the thesis's text).
    #[serde(default, skip_serializing_if = "is_default")]
    pub init: InitSpec,
    /// Batch-norm settings (default: candle-nn's).
    #[serde(default, skip_serializing_if = "is_default")]
    pub batch_norm: BatchNormSpec,
    /// The slope schedule of the binary units, when the model's recipe
    /// fixes one (the authors' code: ×1.04 every 1,000 iterations, at most
    /// 5); `None`: the trainer's (the thesis's per-epoch schedule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_schedule: Option<SlopeSchedule>,
}

fn yes() -> bool {
    true
}

/// The most parameters [`ModelSpec::validate`] accepts: 2³² values (16 GiB
/// of `f32`), 140 times the thesis's SGBN.
pub const MAX_PARAMETERS: u64 = 1 << 32;

/// The most bytes one image's activations may need for
/// [`ModelSpec::validate`] (`MemoryEstimate::activation_bytes` at batch 1):
/// 4 GB, thousands of times any model of the thesis.
pub const MAX_EXAMPLE_ACTIVATION_BYTES: u64 = 4_000_000_000;

/// Base names accepted by [`ModelSpec::named`]. Any MNIST chapter-4 model
/// also takes the suffix `-add-params` (Table 4.12) and the prefix
/// `cifar10-` (§4.3.1 sizes; with `-add-params`, Table 4.13).
pub const MODEL_NAMES: [&str; 31] = [
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
    "bnn",
    "bnn-pgd",
    "bnn-dt",
    "bnn-st",
    "ad-st",
    "ad-dt",
    "1st-gm",
    "2nd-gm",
    "1w-1st-gm",
    "1w-2nd-gm",
    "ch3-cnn",
    "mlp-ste",
    "mlp-reinforce",
    "mlp-dbn",
    "1cnn-ste",
    "1cnn-reinforce",
    "1cnn-dbn",
    "2cnn-ste",
    "2cnn-reinforce",
    "2cnn-dbn",
];

/// What each name of [`MODEL_NAMES`] builds, for `--help` texts.
pub const MODEL_HELP: &str = "\
cnn, cnn-bin, sap, sgbn (sgbn-st), sgbn-dt, sgbn-relu, 1w-sgbn, sgbn-pm1, 1-layer-sgbn,
dropconnect, random-mask: chapter 4 (§4.3.1, §4.6, §4.7);
bnn (no adversarial training), bnn-pgd = bnn-dt (deterministic ±1 weights, PGD training),
bnn-st (stochastic ±1 weights in the binary conv, PGD training): §4.3.1, Galloway et al.;
ad-st, ad-dt: CNN-BIN with adaptive dropout on the conv layers (§4.7);
1st-gm, 2nd-gm, 1w-1st-gm, 1w-2nd-gm: gate probes on a trained SGBN / 1W-SGBN (§4.6.2);
ch3-cnn (1 conv, ReLU dense; add dropout / L1 / L2), mlp-*, 1cnn-*, 2cnn-* with
-ste, -reinforce, -dbn: chapter 3 (Tables 3.1–3.3);
suffix -add-params: widened to about SGBN's size (Tables 4.12–4.13);
suffix -authors: the configuration of the authors' TF code (U(−1, 1) init, BN ε 1e-4,
their gate layout, slope ×1.04 per 1,000 iterations), e.g. sgbn-authors, cnn-bin-authors;
prefix cifar10-: the CIFAR-10 sizes of §4.3.1.";

fn unknown_model(name: &str) -> ModelError {
    ModelError::UnknownModel {
        name: name.to_string(),
        known: MODEL_NAMES.join(", "),
    }
}

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
            bnn: None,
            adaptive_dropout: None,
        };
        Self {
            name: "CNN".into(),
            input: [1, 28, 28],
            classes: 10,
            convs: vec![conv(32), conv(64)],
            hidden: 100,
            dense_unit: DenseUnit::Relu,
            sap: false,
            conv_batch_norm: true,
            dense_dropout: 0.0,
            hidden_bnn: None,
            adversarial_training: None,
            probe: None,
            init: InitSpec::default(),
            batch_norm: BatchNormSpec::default(),
            slope_schedule: None,
        }
    }

    /// A model of the thesis by name (see [`MODEL_NAMES`] and
    /// [`MODEL_HELP`]): a base name, optionally with the prefix `cifar10-`
    /// and the suffix `-add-params`.
    pub fn named(name: &str) -> Result<Self> {
        let lower = name.to_ascii_lowercase();
        let (cifar, rest) = match lower.strip_prefix("cifar10-") {
            Some(rest) => (true, rest),
            None => (false, lower.as_str()),
        };
        let (authors, rest) = match rest.strip_suffix("-authors") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        let (add_params, base) = match rest.strip_suffix("-add-params") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        let unknown = || ModelError::UnknownModel {
            name: name.to_string(),
            known: format!(
                "{} (prefix cifar10-, suffixes -add-params, -authors)",
                MODEL_NAMES.join(", ")
            ),
        };
        let mut spec = Self::named_base(base).map_err(|_| unknown())?;
        let chapter4 = spec.conv_batch_norm && spec.probe.is_none() && spec.convs.len() == 2;
        if (cifar || add_params || authors) && !chapter4 {
            return Err(unknown());
        }
        if cifar {
            spec = spec.for_cifar10(add_params);
        } else if add_params {
            spec = spec.with_added_params();
        }
        if authors {
            spec = spec.with_authors_code();
        }
        Ok(spec)
    }

    /// The MNIST model of a base name.
    fn named_base(name: &str) -> Result<Self> {
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
            "bnn" | "bnn-pgd" | "bnn-dt" | "bnn-st" => {
                // §4.3.1 and Galloway et al.'s "scaled" BNN: conv 1 full
                // precision, conv 2 and the hidden dense layer binary (±1
                // inputs and weights) followed by scaled ReLUs.
                let weights = if name == "bnn-st" {
                    WeightBinarization::Stochastic
                } else {
                    WeightBinarization::Deterministic
                };
                spec.name = match name {
                    "bnn" => "BNN",
                    "bnn-st" => "BNN (ST) with PGD",
                    _ => "BNN with PGD",
                }
                .into();
                spec.convs[1].bnn = Some(BnnBinarization {
                    weights,
                    ..Default::default()
                });
                spec.hidden_bnn = Some(BnnBinarization::default());
                if name != "bnn" {
                    spec.adversarial_training = Some(AdversarialTraining::thesis_mnist());
                }
            }
            "ad-st" | "ad-dt" => {
                let (label, mode) = if name == "ad-st" {
                    ("AD (ST)", AdaptiveDropoutMode::Stochastic)
                } else {
                    ("AD (DT)", AdaptiveDropoutMode::Deterministic)
                };
                spec.name = label.into();
                spec.dense_unit = DenseUnit::StochasticBinary;
                for conv in &mut spec.convs {
                    conv.adaptive_dropout = Some(mode);
                }
            }
            "1st-gm" | "2nd-gm" | "1w-1st-gm" | "1w-2nd-gm" => {
                let shared = name.starts_with("1w-");
                let gate = usize::from(name.ends_with("2nd-gm"));
                spec = Self::named_base(if shared { "1w-sgbn" } else { "sgbn" })?;
                spec.name = format!(
                    "{}{}-GM",
                    if shared { "1W-" } else { "" },
                    ["1st", "2nd"][gate]
                );
                spec.probe = Some(GateProbe { gate });
            }
            "ch3-cnn" => {
                // §3.2.1: conv 32@5×5/2, ReLU, dense 100 ReLU, dense 10; no
                // batch norm. Dropout, L1 and L2 are options.
                spec.name = "CNN (1 conv)".into();
                spec.convs.truncate(1);
                spec.conv_batch_norm = false;
            }
            _ => {
                // Chapter 3, Tables 3.1–3.3: {mlp, 1cnn, 2cnn}-{ste,
                // reinforce, dbn}.
                let (net, unit) = name.split_once('-').ok_or_else(|| unknown_model(name))?;
                let convs = match net {
                    "mlp" => 0,
                    "1cnn" => 1,
                    "2cnn" => 2,
                    _ => return Err(unknown_model(name)),
                };
                let (unit, label) = match unit {
                    "ste" => (DenseUnit::StochasticBinary, "STE"),
                    "reinforce" => (DenseUnit::Reinforce, "REINFORCE"),
                    "dbn" => (DenseUnit::DeterministicBinary, "DBN"),
                    _ => return Err(unknown_model(name)),
                };
                spec.name = format!("{label}-{}", net.to_ascii_uppercase());
                spec.convs.truncate(convs);
                spec.conv_batch_norm = false;
                spec.dense_unit = unit;
            }
        }
        Ok(spec)
    }

    /// The configuration of the authors' TF code (repository
    /// `ykubo82/SGBN`, "Stochastic-Gated Partially Binarized Network.py"),
    /// where it differs from the thesis's text (docs/models.md):
    ///
    /// - every conv and dense weight, and the dense biases, `U(−1, 1)`
    ///   ([`InitSpec`]); the gate's first hidden bias 0.1;
    /// - batch norm ε 1e-4 (momentum 0.1, their EMA decay 0.9);
    /// - gates: hidden widths 512 (gate 1) / 1024 (gate 2) then a 512-unit
    ///   tanh "state" layer (`STATE_NUM`, 512 in the thesis), BN before
    ///   ReLU, one dropout 0.5 after the state layer;
    /// - the slope ×1.04 every 1,000 iterations, at most 5.
    ///
    /// Their early stopping (the loss of 500 images every 100 iterations
    /// from iteration 19,000, patience 3) is a training-config field
    /// (`sgbn_defenses::EarlyStoppingRule::StepLoss`), not part of the spec.
    /// Not represented: their loss scale (the mean over classes).
    pub fn with_authors_code(mut self) -> Self {
        self.init = InitSpec {
            weight_bound: Some(1.0),
            dense_bias: BiasInit::Uniform(1.0),
        };
        self.batch_norm = BatchNormSpec {
            eps: 1e-4,
            momentum: 0.1,
        };
        for (i, conv) in self.convs.iter_mut().enumerate() {
            if let Some(g) = &mut conv.gate {
                g.hidden = [if i == 0 { 512 } else { 1024 }, 512];
                g.activation = GateActivation::Tanh;
                g.order = GateOrder::BatchNormThenRelu;
                g.dropout = 0.5;
                g.dropout_sites = GateDropoutSites::StateOnly;
                g.uniform_bound = Some(1.0);
                g.conv_uniform_bound = Some(1.0);
                g.hidden1_bias = BiasInit::Const(0.1);
                g.bias_init = BiasInit::Uniform(1.0);
            }
        }
        if self.dense_unit != DenseUnit::Relu {
            self.slope_schedule = Some(SlopeSchedule::authors_code());
        }
        self.name = format!("{} (authors' code)", self.name);
        self
    }

    /// The "(add params)" variant of a chapter-4 MNIST model (Table 4.12):
    /// 64 and 128 filters and a hidden layer of 6,952 units, about SGBN's
    /// parameter count.
    pub fn with_added_params(mut self) -> Self {
        for (conv, filters) in self.convs.iter_mut().zip([64, 128]) {
            conv.filters = filters;
        }
        self.hidden = 6952;
        self.name = format!("{} (add params)", self.name);
        self
    }

    /// The CIFAR-10 sizes of §4.3.1 for a chapter-4 model: input 3×32×32,
    /// conv 64@8×8 stride 2 (padding 3, "SAME" as in Galloway et al.'s
    /// code), 128@6×6 stride 2, 128@5×5 stride 1 (VALID), the third layer
    /// configured like the second (gate, BNN, masks). With `add_params`,
    /// Table 4.13: 64, 256 and 256 filters of 5×5 and a hidden layer of 1,176.
    pub fn for_cifar10(mut self, add_params: bool) -> Self {
        self.input = [3, 32, 32];
        let mut third = self.convs[1].clone();
        if let Some(g) = &mut third.gate {
            g.activation = GateActivation::Tanh;
        }
        self.convs.push(third);
        let layout: [(usize, usize, usize, usize); 3] = if add_params {
            [(64, 5, 2, 2), (256, 5, 2, 0), (256, 5, 1, 0)]
        } else {
            [(64, 8, 2, 3), (128, 6, 2, 0), (128, 5, 1, 0)]
        };
        for (conv, (filters, kernel, stride, padding)) in self.convs.iter_mut().zip(layout) {
            (conv.filters, conv.kernel, conv.stride, conv.padding) =
                (filters, kernel, stride, padding);
        }
        if add_params {
            self.hidden = 1176;
            self.name = format!("{} (add params)", self.name);
        }
        if let Some(r) = &mut self.convs[2].random_mask {
            r.keep = 0.5;
        }
        self.name = format!("{} [CIFAR-10]", self.name);
        self
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
        let dense_samples = match self.hidden_bnn {
            Some(b) => b.is_stochastic(),
            None => matches!(
                self.dense_unit,
                DenseUnit::StochasticBinary | DenseUnit::Reinforce
            ),
        };
        dense_samples
            || self.sap
            || self
                .convs
                .iter()
                .any(|c| c.bnn.is_some_and(|b| b.is_stochastic()))
            || self
                .convs
                .iter()
                .any(|c| c.adaptive_dropout == Some(AdaptiveDropoutMode::Stochastic))
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
        if self.input.contains(&0) || self.classes < 2 || self.hidden == 0 {
            return bad("input, classes (≥ 2) and hidden must be non-empty".into());
        }
        if !(0.0..1.0).contains(&self.dense_dropout) {
            return bad(format!(
                "dense dropout {} not in [0, 1)",
                self.dense_dropout
            ));
        }
        if let Some(a) = &self.adversarial_training {
            let ok = a.eps.is_finite()
                && a.eps >= 0.0
                && a.step.is_finite()
                && a.step > 0.0
                && a.steps > 0
                && (0.0..=1.0).contains(&a.tau);
            if !ok {
                return bad(format!(
                    "adversarial training needs ε ≥ 0, step > 0, steps > 0, τ in [0, 1]: {a:?}"
                ));
            }
        }
        if let Some(p) = &self.probe {
            let gated = self.convs.get(p.gate).is_some_and(|c| c.gate.is_some());
            if !gated {
                return bad(format!("gate probe on conv {}, which has no gate", p.gate));
            }
        }
        let (mut h, mut w) = (self.input[1], self.input[2]);
        let mut sizes = Vec::new();
        for (i, c) in self.convs.iter().enumerate() {
            if c.filters == 0 || c.kernel == 0 || c.stride == 0 {
                return bad(format!("conv {i}: filters, kernel and stride must be > 0"));
            }
            // SAME padding is (k − 1) / 2; a padding of k or more only adds
            // outputs that see nothing but zeros (and, unbounded, exhausts
            // memory: `--padding 100` once asked for more than 22 GB).
            if c.padding >= c.kernel {
                return bad(format!(
                    "conv {i}: padding {} must be smaller than the kernel {} \
                     (SAME padding is {})",
                    c.padding,
                    c.kernel,
                    (c.kernel - 1) / 2
                ));
            }
            if c.kernel > h.saturating_add(2 * c.padding)
                || c.kernel > w.saturating_add(2 * c.padding)
            {
                return bad(format!(
                    "conv {i}: kernel {} does not fit {h}×{w}",
                    c.kernel
                ));
            }
            let extras = [
                c.gate.is_some(),
                c.random_mask.is_some(),
                c.bnn.is_some(),
                c.adaptive_dropout.is_some(),
            ];
            if extras.iter().filter(|x| **x).count() > 1 {
                return bad(format!(
                    "conv {i}: a gate, a random mask, a BNN layer and adaptive dropout exclude each other"
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
            if let Some(g) = &c.gate
                && (!(0.0..1.0).contains(&g.dropout) || g.hidden.contains(&0))
            {
                return bad(format!(
                    "conv {i}: gate dropout in [0, 1), hidden widths > 0"
                ));
            }
            h = (h.saturating_add(2 * c.padding) - c.kernel) / c.stride + 1;
            w = (w.saturating_add(2 * c.padding) - c.kernel) / c.stride + 1;
            sizes.push((h, w));
        }
        // Sizes read from a file may be anything: a model beyond these
        // bounds is refused before a byte of it is allocated.
        let est = self.memory_estimate(1);
        if est.parameters > MAX_PARAMETERS {
            return bad(format!(
                "{} parameters, more than the {MAX_PARAMETERS} this crate builds",
                est.parameters
            ));
        }
        if est.activation_bytes > MAX_EXAMPLE_ACTIVATION_BYTES {
            return bad(format!(
                "one image's activations need an estimated {:.1} GB, more than the {} GB this \
                 crate allows",
                est.activation_bytes as f64 / 1e9,
                MAX_EXAMPLE_ACTIVATION_BYTES / 1_000_000_000
            ));
        }
        Ok(sizes)
    }
}
