//! The convolutional models of chapter 4: CNN, CNN-BIN and the SGBN family.

use std::sync::Mutex;

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::BatchNorm;
use sgbn_estimators::{
    ReinforceSample, SeededRng, bernoulli_soft_ste, deterministic_binary, uniform_like,
};
use sgbn_layers::{
    AdaptiveDropout, BnnConv2d, BnnConv2dConfig, BnnDense, ConvGeometry, Dense, DenseConfig,
    GateConfig, GateModule, GateTrace, MaskedConv2d, MaskedConv2dConfig, RandomWeightMask,
    ScaledRelu, SeededVarMap, adaptive_dropout, batch_norm_t, bnn_conv2d, bnn_dense, dense,
    gate_module, masked_conv2d, relu, scaled_relu, stochastic_activation_pruning,
};

use crate::{Classifier, DenseUnit, ForwardContext, Gated, ModelError, ModelSpec, Result};

/// The convolution of a block: full precision (optionally masked) or BNN.
#[derive(Debug)]
enum BlockConv {
    /// conv (masked by a gate or random masks, if any) → BN → ReLU.
    Real(MaskedConv2d),
    /// BNN conv → scaled ReLU.
    Binary(BnnConv2d, ScaledRelu),
}

/// One conv layer of the main network with its batch norm and optional gate.
#[derive(Debug)]
struct ConvBlock {
    conv: BlockConv,
    bn: Option<BatchNorm>,
    gate: Option<GateModule>,
    random_mask: Option<RandomWeightMask>,
    adaptive_dropout: Option<AdaptiveDropout>,
    share_weights: bool,
}

/// The hidden dense layer.
#[derive(Debug)]
enum Hidden {
    /// Dense → the spec's dense unit.
    Real(Dense),
    /// BNN dense → scaled ReLU.
    Binary(BnnDense, ScaledRelu),
}

/// Every model of [`ModelSpec`]: conv blocks (conv → BN → ReLU, each
/// optionally gated (eq. 4.1–4.2), randomly masked, with adaptive dropout,
/// or a BNN layer → scaled ReLU) → flatten → hidden dense (→ ReLU,
/// stochastic / deterministic / REINFORCE binary unit; or a BNN dense layer
/// → scaled ReLU) → dense logits. CNN, CNN-BIN, the SGBN family, SAP,
/// DropConnect, Random Mask, BNN, AD, the gate probes and the chapter-3
/// networks. Built from a [`ModelSpec`]; parameters from a [`SeededVarMap`].
///
/// Parameter names: `conv{i}.weight` (BNN: also `conv{i}.bn_in.*`),
/// `bn{i}.{weight,bias,running_mean, running_var}`, `srelu{i}.scale`,
/// `ad{i}.{alpha,beta}`, `gate{i}.…`, `hidden.{weight,bias}` (BNN:
/// `hidden.weight`, `hidden.bn_in.*`, `hidden_srelu.scale`),
/// `output.{weight,bias}`, `probe.{weight,bias}`.
#[derive(Debug)]
pub struct ConvNet {
    spec: ModelSpec,
    blocks: Vec<ConvBlock>,
    hidden: Hidden,
    output: Dense,
    probe: Option<Dense>,
    reinforce: Mutex<Option<ReinforceSample>>,
    /// `m·a` of the binary dense unit in the last forward pass, detached.
    dense_unit_input: Mutex<Option<Tensor>>,
    /// The binary dense unit's output `h` in the last forward pass, detached.
    dense_unit_output: Mutex<Option<Tensor>>,
    vars: SeededVarMap,
}

impl ConvNet {
    /// Builds `spec` with parameters drawn from `seed` (f32, on `device`).
    pub fn new(spec: &ModelSpec, seed: u64, device: &Device) -> Result<Self> {
        Self::build(spec, SeededVarMap::new(seed), device)
    }

    /// Builds `spec` for evaluation and attacks: the same function, but
    /// backpropagation computes gradients for the input only, never for the
    /// parameters (see [`SeededVarMap::frozen`]), which spares an attack the
    /// weight-gradient half of every backward pass. Load weights with
    /// `Checkpoint::build_frozen` or `Checkpoint::load_into`.
    pub fn new_frozen(spec: &ModelSpec, device: &Device) -> Result<Self> {
        Self::build(spec, SeededVarMap::frozen(0), device)
    }

    fn build(spec: &ModelSpec, vars: SeededVarMap, device: &Device) -> Result<Self> {
        let sizes = spec.validate()?;
        let vb = vars.var_builder(DType::F32, device);
        let bn_config = spec.batch_norm.config();
        let dense_config = DenseConfig {
            bias: true,
            uniform_bound: spec.init.weight_bound,
            bias_init: spec.init.dense_bias,
        };
        let mut blocks = Vec::new();
        let (mut channels, mut h, mut w) = (spec.input[0], spec.input[1], spec.input[2]);
        for (i, (c, (ho, wo))) in spec.convs.iter().zip(&sizes).enumerate() {
            let config = MaskedConv2dConfig {
                stride: c.stride,
                padding: c.padding,
                bias: false,
                uniform_bound: spec.init.weight_bound,
                ..Default::default()
            };
            let conv = match c.bnn {
                Some(binarization) => BlockConv::Binary(
                    bnn_conv2d(
                        channels,
                        c.filters,
                        c.kernel,
                        BnnConv2dConfig {
                            conv: config,
                            binarization,
                            batch_norm: bn_config,
                        },
                        vb.pp(format!("conv{i}")),
                    )?,
                    scaled_relu(vb.pp(format!("srelu{i}")))?,
                ),
                None => BlockConv::Real(masked_conv2d(
                    channels,
                    c.filters,
                    c.kernel,
                    config,
                    vb.pp(format!("conv{i}")),
                )?),
            };
            let bn = if c.bnn.is_none() && spec.conv_batch_norm {
                Some(candle_nn::batch_norm(
                    c.filters,
                    bn_config,
                    vb.pp(format!("bn{i}")),
                )?)
            } else {
                None
            };
            let adaptive_dropout = c
                .adaptive_dropout
                .map(|mode| adaptive_dropout(c.filters, mode, vb.pp(format!("ad{i}"))))
                .transpose()?;
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
                        batch_norm: bn_config,
                        order: g.order,
                        dropout_sites: g.dropout_sites,
                        conv_uniform_bound: g.conv_uniform_bound,
                        hidden1_bias: g.hidden1_bias,
                        bias_init: g.bias_init,
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
                adaptive_dropout,
                share_weights: c.gate.as_ref().is_some_and(|g| g.share_weights),
            });
            (channels, h, w) = (c.filters, *ho, *wo);
        }
        let flat = channels * h * w;
        let hidden = match spec.hidden_bnn {
            Some(binarization) => Hidden::Binary(
                bnn_dense(flat, spec.hidden, binarization, bn_config, vb.pp("hidden"))?,
                scaled_relu(vb.pp("hidden_srelu"))?,
            ),
            None => Hidden::Real(dense(flat, spec.hidden, dense_config, vb.pp("hidden"))?),
        };
        let output = dense(spec.hidden, spec.classes, dense_config, vb.pp("output"))?;
        let probe = match spec.probe {
            Some(p) => {
                let c = &spec.convs[p.gate];
                let in_channels = if p.gate == 0 {
                    spec.input[0]
                } else {
                    spec.convs[p.gate - 1].filters
                };
                let masks = c.filters * in_channels * c.kernel * c.kernel;
                Some(dense(
                    masks,
                    spec.classes,
                    DenseConfig::default(),
                    vb.pp("probe"),
                )?)
            }
            None => None,
        };
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
            probe,
            reinforce: Mutex::new(None),
            dense_unit_input: Mutex::new(None),
            dense_unit_output: Mutex::new(None),
            vars,
        })
    }

    /// For a gate probe (1st-GM / 2nd-GM): copies every tensor of the
    /// trained SGBN in `base` (whose spec must be this spec without the
    /// probe) into this model; the probe head keeps its initial values.
    pub fn load_probe_base(&self, base: &crate::Checkpoint) -> Result<()> {
        let mut expected = self.spec.clone();
        expected.probe = None;
        expected.name = base.spec.name.clone();
        if self.spec.probe.is_none() || base.spec != expected {
            return Err(ModelError::InvalidSpec(format!(
                "{}: the base checkpoint holds {:?}, not the SGBN this probe is built on",
                self.spec.name, base.spec.name
            )));
        }
        for (name, var) in self.vars.vars() {
            if name.starts_with("probe.") {
                continue;
            }
            let t = base.tensor(&name).ok_or_else(|| {
                ModelError::InvalidSpec(format!("base checkpoint has no tensor {name}"))
            })?;
            let t = crate::checkpoint::in_layout(&name, &t, var.as_tensor().dims())?.ok_or_else(
                || {
                    ModelError::InvalidSpec(format!(
                        "base tensor {name} has shape {:?}, expected {:?}",
                        t.dims(),
                        var.as_tensor().dims()
                    ))
                },
            )?;
            var.set(&t.to_dtype(var.dtype())?)?;
        }
        Ok(())
    }

    /// The binary dense unit's output `h` (its samples) in the last forward
    /// pass, detached; `None` for a ReLU or BNN hidden layer. With
    /// [`Classifier::dense_unit_input`] it lets another implementation
    /// (the PyTorch twin, docs/interop.md) replay a stochastic pass exactly.
    pub fn last_dense_unit_output(&self) -> Option<Tensor> {
        self.dense_unit_output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
        self.forward_impl(x, ctx, None, rng)
    }

    fn as_gated(&self) -> Option<&dyn Gated> {
        self.blocks
            .iter()
            .any(|b| b.gate.is_some())
            .then_some(self as &dyn Gated)
    }

    fn dense_unit_input(&self) -> Option<Tensor> {
        self.dense_unit_input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn take_reinforce_sample(&self) -> Option<ReinforceSample> {
        self.reinforce
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    fn trainable(&self) -> Vec<(String, Var)> {
        let probe = self.spec.probe.is_some();
        self.vars
            .vars()
            .into_iter()
            .filter(|(name, _)| !is_buffer(name) && (!probe || name.starts_with("probe.")))
            .collect()
    }

    fn state(&self) -> Vec<(String, Var)> {
        self.vars.vars()
    }
}

impl Gated for ConvNet {
    fn gate_traces(&self) -> Vec<Option<GateTrace>> {
        self.blocks
            .iter()
            .map(|b| b.gate.as_ref().and_then(GateModule::last_trace))
            .collect()
    }

    fn forward_with_gate_masks(
        &self,
        x: &Tensor,
        ctx: ForwardContext,
        masks: &[Option<Tensor>],
        rng: &mut SeededRng,
    ) -> Result<Tensor> {
        if self.blocks.iter().all(|b| b.gate.is_none()) {
            return Err(ModelError::InvalidSpec(format!(
                "{} has no gate masks to fix",
                self.spec.name
            )));
        }
        if masks.len() != self.blocks.len()
            || self
                .blocks
                .iter()
                .zip(masks)
                .any(|(b, m)| b.gate.is_some() != m.is_some())
        {
            return Err(ModelError::InvalidSpec(format!(
                "{}: fixed masks must be given for exactly the gated conv layers ({} layers)",
                self.spec.name,
                self.blocks.len()
            )));
        }
        self.forward_impl(x, ctx, Some(masks), rng)
    }
}

impl ConvNet {
    /// The forward pass; with `fixed`, the gates are not run and these
    /// masks are used instead.
    fn forward_impl(
        &self,
        x: &Tensor,
        ctx: ForwardContext,
        fixed: Option<&[Option<Tensor>]>,
        rng: &mut SeededRng,
    ) -> Result<Tensor> {
        let [c, h, w] = self.spec.input;
        if x.rank() != 4 || x.dims()[1..] != [c, h, w] {
            return Err(ModelError::InvalidSpec(format!(
                "{} takes images (B, {c}, {h}, {w}), got {:?}",
                self.spec.name,
                x.dims()
            )));
        }
        // A gate probe trains its head only: the frozen SGBN below runs in
        // evaluation mode (running statistics, no dropout).
        let train = ctx.mode.is_train() && self.spec.probe.is_none();
        let mut h = x.clone();
        for (i, block) in self.blocks.iter().enumerate() {
            let masks = match (&block.gate, &block.random_mask) {
                (Some(_), _) if fixed.is_some() => fixed.and_then(|m| m[i].clone()),
                (Some(gate), _) => {
                    let shared = match (&block.conv, block.share_weights) {
                        (BlockConv::Real(conv), true) => Some(conv.weight()),
                        _ => None,
                    };
                    let masks = gate.masks_with(&h, shared, train, ctx.bpda.gate, rng)?;
                    if let (Some(p), Some(head)) = (self.spec.probe, &self.probe)
                        && p.gate == i
                    {
                        return Ok(head.forward(&masks.flatten_from(1)?)?);
                    }
                    Some(if ctx.shuffle_gate_masks {
                        let order = derangement(masks.dim(0)?, rng);
                        let idx = Tensor::from_vec(order, masks.dim(0)?, masks.device())?;
                        masks.index_select(&idx, 0)?
                    } else {
                        masks
                    })
                }
                (None, Some(random)) => {
                    let shape = match &block.conv {
                        BlockConv::Real(conv) => conv.weight().dims().to_vec(),
                        BlockConv::Binary(conv, _) => conv.weight().dims().to_vec(),
                    };
                    Some(random.masks(h.dim(0)?, &shape, h.device(), rng)?)
                }
                (None, None) => None,
            };
            h = match &block.conv {
                BlockConv::Real(conv) => {
                    let mut z = conv.forward_masked(&h, masks.as_ref())?;
                    if let Some(bn) = &block.bn {
                        z = batch_norm_t(bn, &self.spec.batch_norm.config(), &z, train)?;
                    }
                    match &block.adaptive_dropout {
                        Some(ad) => ad.forward(&relu(&z)?, &z, rng)?,
                        None => relu(&z)?,
                    }
                }
                BlockConv::Binary(conv, srelu) => srelu.forward(&conv.forward(&h, train, rng)?)?,
            };
            if self.spec.sap {
                h = stochastic_activation_pruning(&h, rng)?;
            }
        }
        let flat = h.flatten_from(1)?;
        let h = match &self.hidden {
            Hidden::Binary(layer, srelu) => srelu.forward(&layer.forward(&flat, train, rng)?)?,
            Hidden::Real(layer) => {
                let a = layer.forward(&flat)?;
                let h = match self.spec.dense_unit {
                    DenseUnit::Relu => relu(&a)?,
                    DenseUnit::StochasticBinary => bernoulli_soft_ste(&a, ctx.slope, rng)?,
                    DenseUnit::DeterministicBinary => deterministic_binary(&a, ctx.slope)?,
                    DenseUnit::Reinforce => {
                        let sample = ReinforceSample::draw(&a, rng)?;
                        let h = sample.h.clone();
                        *self.reinforce.lock().unwrap_or_else(|e| e.into_inner()) =
                            train.then_some(sample);
                        h
                    }
                };
                if self.spec.dense_unit == DenseUnit::Relu {
                    h
                } else {
                    let slope = match self.spec.dense_unit {
                        DenseUnit::Reinforce => 1.0,
                        _ => ctx.slope,
                    };
                    *self
                        .dense_unit_input
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some((a.detach() * slope)?);
                    *self
                        .dense_unit_output
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some(h.detach());
                    if ctx.bpda.dense_unit {
                        // BPDA: the unit's value, the identity's gradient.
                        (h.detach() + (&a - a.detach())?)?
                    } else {
                        h
                    }
                }
            }
        };
        let h = if train && self.spec.dense_dropout > 0.0 {
            inverted_dropout(&h, self.spec.dense_dropout, rng)?
        } else {
            h
        };
        Ok(self.output.forward(&h)?)
    }
}

/// Dropout with probability `p` from the caller's generator (candle-nn's
/// draws from candle's unseedable one): kept units are scaled by `1/(1−p)`.
fn inverted_dropout(h: &Tensor, p: f64, rng: &mut SeededRng) -> Result<Tensor> {
    let keep = uniform_like(h, rng)?.ge(p)?.to_dtype(h.dtype())?;
    Ok(((h * keep)? * (1.0 / (1.0 - p)))?)
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
