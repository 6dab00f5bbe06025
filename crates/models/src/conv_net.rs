//! The convolutional models of chapter 4: CNN, CNN-BIN and the SGBN family.

use candle_core::{DType, Device, Module, ModuleT, Tensor, Var};
use candle_nn::{BatchNorm, BatchNormConfig};
use sgbn_estimators::{SeededRng, bernoulli_soft_ste};
use sgbn_layers::{
    ConvGeometry, Dense, DenseConfig, GateConfig, GateModule, GateTrace, MaskedConv2d,
    MaskedConv2dConfig, RandomWeightMask, SeededVarMap, dense, gate_module, masked_conv2d,
    stochastic_activation_pruning,
};

use crate::{Classifier, DenseUnit, ForwardContext, ModelError, ModelSpec, Result};

/// One conv layer of the main network with its batch norm and optional gate.
#[derive(Debug)]
struct ConvBlock {
    conv: MaskedConv2d,
    bn: BatchNorm,
    gate: Option<GateModule>,
    random_mask: Option<RandomWeightMask>,
    share_weights: bool,
}

/// CNN, CNN-BIN, SGBN (ST/DT/±1), SGBN-ReLU, 1W-SGBN, SAP, DropConnect,
/// Random Mask: conv blocks
/// (conv → BN → ReLU, each optionally gated, eq. 4.1–4.2) → flatten → dense
/// → ReLU or stochastic binary unit → dense logits. Built from a
/// [`ModelSpec`]; parameters from a [`SeededVarMap`].
///
/// Parameter names: `conv{i}.weight`, `bn{i}.{weight,bias,running_mean,
/// running_var}`, `gate{i}.…`, `hidden.{weight,bias}`, `output.{weight,bias}`.
#[derive(Debug)]
pub struct ConvNet {
    spec: ModelSpec,
    blocks: Vec<ConvBlock>,
    hidden: Dense,
    output: Dense,
    vars: SeededVarMap,
}

impl ConvNet {
    /// Builds `spec` with parameters drawn from `seed` (f32, on `device`).
    pub fn new(spec: &ModelSpec, seed: u64, device: &Device) -> Result<Self> {
        let sizes = spec.validate()?;
        let vars = SeededVarMap::new(seed);
        let vb = vars.var_builder(DType::F32, device);
        let mut blocks = Vec::new();
        let (mut channels, mut h, mut w) = (spec.input[0], spec.input[1], spec.input[2]);
        for (i, (c, (ho, wo))) in spec.convs.iter().zip(&sizes).enumerate() {
            let config = MaskedConv2dConfig {
                stride: c.stride,
                padding: c.padding,
                bias: false,
                ..Default::default()
            };
            let conv = masked_conv2d(
                channels,
                c.filters,
                c.kernel,
                config,
                vb.pp(format!("conv{i}")),
            )?;
            let bn = candle_nn::batch_norm(
                c.filters,
                BatchNormConfig::default(),
                vb.pp(format!("bn{i}")),
            )?;
            let gate = match &c.gate {
                Some(g) => {
                    let geometry = ConvGeometry {
                        in_channels: channels,
                        height: h,
                        width: w,
                        kernel: c.kernel,
                        stride: c.stride,
                        padding: c.padding,
                    };
                    let config = GateConfig {
                        hidden: g.hidden,
                        activation: g.activation,
                        output: g.output,
                        dropout: g.dropout,
                        uniform_bound: g.uniform_bound,
                        batch_norm: BatchNormConfig::default(),
                    };
                    Some(gate_module(
                        geometry,
                        c.filters,
                        config,
                        vb.pp(format!("gate{i}")),
                    )?)
                }
                None => None,
            };
            let random_mask = c
                .random_mask
                .map(|m| RandomWeightMask::new(m.keep, m.per_sample))
                .transpose()?;
            blocks.push(ConvBlock {
                conv,
                bn,
                gate,
                random_mask,
                share_weights: c.gate.as_ref().is_some_and(|g| g.share_weights),
            });
            (channels, h, w) = (c.filters, *ho, *wo);
        }
        let flat = channels * h * w;
        let hidden = dense(flat, spec.hidden, DenseConfig::default(), vb.pp("hidden"))?;
        let output = dense(
            spec.hidden,
            spec.classes,
            DenseConfig::default(),
            vb.pp("output"),
        )?;
        if spec.share_weights_unused_gate_conv() {
            // 1W-SGBN: the gate's own conv weight exists only to keep one
            // builder; drop it so that it is neither trained nor saved.
            vars.remove_matching(|name| name.starts_with("gate") && name.ends_with(".conv.weight"));
        }
        Ok(Self {
            spec: spec.clone(),
            blocks,
            hidden,
            output,
            vars,
        })
    }

    /// The parameter store.
    pub fn vars(&self) -> &SeededVarMap {
        &self.vars
    }
}

impl ModelSpec {
    fn share_weights_unused_gate_conv(&self) -> bool {
        self.convs
            .iter()
            .any(|c| c.gate.as_ref().is_some_and(|g| g.share_weights))
    }
}

impl Classifier for ConvNet {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn forward(&self, x: &Tensor, ctx: ForwardContext, rng: &mut SeededRng) -> Result<Tensor> {
        let [c, h, w] = self.spec.input;
        if x.rank() != 4 || x.dims()[1..] != [c, h, w] {
            return Err(ModelError::InvalidSpec(format!(
                "{} takes images (B, {c}, {h}, {w}), got {:?}",
                self.spec.name,
                x.dims()
            )));
        }
        let train = ctx.mode.is_train();
        let mut h = x.clone();
        for block in &self.blocks {
            let masks = match (&block.gate, &block.random_mask) {
                (Some(gate), _) => {
                    let shared = block.share_weights.then(|| block.conv.weight());
                    let masks = gate.masks(&h, shared, train, rng)?;
                    Some(if ctx.shuffle_gate_masks {
                        let order = derangement(masks.dim(0)?, rng);
                        let idx = Tensor::from_vec(order, masks.dim(0)?, masks.device())?;
                        masks.index_select(&idx, 0)?
                    } else {
                        masks
                    })
                }
                (None, Some(random)) => {
                    let w = block.conv.weight();
                    Some(random.masks(h.dim(0)?, w.dims(), h.device(), rng)?)
                }
                (None, None) => None,
            };
            h = block.conv.forward_masked(&h, masks.as_ref())?;
            h = block.bn.forward_t(&h, train)?.relu()?;
            if self.spec.sap {
                h = stochastic_activation_pruning(&h, rng)?;
            }
        }
        let a = self.hidden.forward(&h.flatten_from(1)?)?;
        let h = match self.spec.dense_unit {
            DenseUnit::Relu => a.relu()?,
            DenseUnit::StochasticBinary => bernoulli_soft_ste(&a, ctx.slope, rng)?,
        };
        Ok(self.output.forward(&h)?)
    }

    fn gate_traces(&self) -> Vec<Option<GateTrace>> {
        self.blocks
            .iter()
            .map(|b| b.gate.as_ref().and_then(GateModule::last_trace))
            .collect()
    }

    fn trainable(&self) -> Vec<(String, Var)> {
        self.vars
            .vars()
            .into_iter()
            .filter(|(name, _)| !is_buffer(name))
            .collect()
    }

    fn state(&self) -> Vec<(String, Var)> {
        self.vars.vars()
    }
}

/// A random permutation of `0..n` without fixed points (for n ≥ 2): a
/// random order, each element mapped to the next one in it, cyclically.
/// `result[b]` is the sample whose masks sample `b` receives.
pub fn derangement<R: rand::Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<u32> {
    use rand::seq::SliceRandom;
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(rng);
    let mut out = vec![0u32; n];
    for i in 0..n {
        out[order[i] as usize] = order[(i + 1) % n];
    }
    out
}

/// Batch-norm running statistics are state, not trainable parameters.
pub fn is_buffer(name: &str) -> bool {
    name.ends_with("running_mean") || name.ends_with("running_var")
}
