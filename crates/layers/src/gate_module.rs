//! The gate module of SGBN (thesis §4.2, Tables 4.1–4.4, Fig. 4.2).

use std::sync::Mutex;

use candle_core::{Module, Tensor};
use candle_nn::{BatchNorm, BatchNormConfig, VarBuilder};
use rand::Rng;
use sgbn_estimators::{bernoulli_hard_ste, stochastic_sign_ste, uniform_like};

use crate::kernels::batch_norm::batch_norm_t;
use crate::kernels::relu::relu;
use crate::{
    BiasInit, ConvGeometry, Dense, DenseConfig, LayerError, MaskedConv2d, MaskedConv2dConfig,
    Result, dense, masked_conv2d,
};

/// Activation of the gate's second hidden layer (Table 4.1: asinh for gate 1,
/// Table 4.2: tanh for gate 2; the authors' code uses tanh in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateActivation {
    /// `asinh(x) = ln(x + sqrt(x² + 1))`.
    Asinh,
    /// `tanh(x)`.
    Tanh,
}

/// How the gate turns its logits `a` into masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateOutput {
    /// `h = 1[u < σ(a)]` with the hard STE: SGBN (ST), §4.2.
    HardSte,
    /// `h = σ(a)`, not binarized: SGBN (DT), §4.6.1.
    Sigmoid,
    /// `h = ±1` with probability `clip((a+1)/2)` (eq. 2.18–2.19): SGBN ±1.
    StochasticSign,
}

/// Where the gate's first hidden layer puts its batch norm.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GateOrder {
    /// dense → ReLU → BN (Tables 4.1–4.2).
    #[default]
    ReluThenBatchNorm,
    /// dense → BN → ReLU (the authors' code).
    BatchNormThenRelu,
}

/// Where the gate applies dropout in training.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GateDropoutSites {
    /// After each hidden layer (the thesis is silent; our reading).
    #[default]
    EachHidden,
    /// Only after the second hidden layer's activation, the "state" layer
    /// (the authors' code).
    StateOnly,
}

/// Which parts of the gate's backward pass an attack replaces by the
/// identity (BPDA, Athalye et al. 2018); the forward pass is unchanged.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct GateBpda {
    /// σ and the sampling of the masks: `∂h/∂a = 1`. The hard STE of SGBN
    /// (ST) already has this gradient; it changes SGBN (DT) (`h = σ(a)`)
    /// and ±1 masks.
    pub sampling: bool,
    /// The second hidden layer's tanh / asinh: `∂f(z)/∂z = 1`.
    pub activation: bool,
}

/// Settings of a [`GateModule`]. Defaults follow the thesis tables; the
/// authors' code differs (gate-2 hidden width 1024, tanh in both gates,
/// BN before ReLU, one dropout of 0.5 after the state layer, `U(−1, 1)`
/// weights and biases, the first hidden bias 0.1): set those here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateConfig {
    /// Widths of the two hidden dense layers (512, 512).
    pub hidden: [usize; 2],
    /// Activation of the second hidden layer.
    pub activation: GateActivation,
    /// Mask binarizer.
    pub output: GateOutput,
    /// Dropout probability after each hidden layer, in training only (0: none).
    pub dropout: f64,
    /// Dense weight initialization: `None` Glorot uniform, `Some(a)`
    /// `U(−a, a)`.
    pub uniform_bound: Option<f64>,
    /// Batch norm of the gate conv and the first hidden layer.
    pub batch_norm: BatchNormConfig,
    /// BN before or after the first hidden layer's ReLU.
    pub order: GateOrder,
    /// Where dropout applies.
    pub dropout_sites: GateDropoutSites,
    /// The gate conv's weight initialization (`None`: Glorot uniform).
    pub conv_uniform_bound: Option<f64>,
    /// The first hidden layer's bias.
    pub hidden1_bias: BiasInit,
    /// The second hidden layer's and the logit layer's biases.
    pub bias_init: BiasInit,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            hidden: [512, 512],
            activation: GateActivation::Tanh,
            output: GateOutput::HardSte,
            dropout: 0.0,
            uniform_bound: None,
            batch_norm: BatchNormConfig::default(),
            order: GateOrder::ReluThenBatchNorm,
            dropout_sites: GateDropoutSites::EachHidden,
            conv_uniform_bound: None,
            hidden1_bias: BiasInit::Zero,
            bias_init: BiasInit::Zero,
        }
    }
}

/// What the gate did in its last forward pass, for analysis (Fig. 4.7–4.9).
#[derive(Debug, Clone)]
pub struct GateTrace {
    /// `σ(a)`, `(B, C_out, C_in, k, k)`, detached.
    pub probabilities: Tensor,
    /// The masks handed to the conv layer, same shape, detached.
    pub masks: Tensor,
    /// The input `z` of the second hidden layer's activation (tanh /
    /// asinh), `(B, hidden[1])`, detached: its slope `f'(z)` says whether
    /// the gate saturates.
    pub state_input: Tensor,
    /// The activation of the second hidden layer.
    pub activation: GateActivation,
}

impl GateTrace {
    /// `f'(z)` of the second hidden layer's activation at every unit:
    /// `1 − tanh²(z)` or `1 / √(1 + z²)`.
    pub fn activation_slopes(&self) -> Result<Tensor> {
        let z = &self.state_input;
        Ok(match self.activation {
            GateActivation::Tanh => (1.0 - z.tanh()?.sqr()?)?,
            GateActivation::Asinh => (z.sqr()? + 1.0)?.sqrt()?.recip()?,
        })
    }
}

/// A shallow CNN that looks at the input of a conv layer and outputs one
/// mask value per weight of that layer, per sample (Fig. 4.2):
///
/// conv (the gated layer's filters, kernel and stride; own weights) → BN →
/// ReLU → flatten → dense → ReLU → BN → dense → asinh/tanh → dense
/// (C_out·C_in·k·k logits) → binarizer → reshape to `(B, C_out, C_in, k, k)`.
#[derive(Debug)]
pub struct GateModule {
    conv: MaskedConv2d,
    conv_bn: BatchNorm,
    hidden1: Dense,
    hidden1_bn: BatchNorm,
    hidden2: Dense,
    logits: Dense,
    config: GateConfig,
    mask_shape: [usize; 4],
    /// The gated conv's input and geometry, checked on every pass.
    geometry: ConvGeometry,
    /// The last pass's detached logits, masks and state input; the
    /// probabilities of the trace are computed from the logits only when
    /// someone asks for them, which keeps a 2.6 M-element sigmoid out of
    /// every training step.
    last: Mutex<Option<(Tensor, Tensor, Tensor)>>,
}

/// Builds the gate of a conv layer with `geometry` (input channels and size,
/// kernel, stride, padding) and `out_channels` filters, under `vb`
/// (`conv`, `conv_bn`, `hidden1`, `hidden1_bn`, `hidden2`, `logits`).
pub fn gate_module(
    geometry: ConvGeometry,
    out_channels: usize,
    config: GateConfig,
    vb: VarBuilder<'_>,
) -> Result<GateModule> {
    geometry.validate()?;
    if !(0.0..1.0).contains(&config.dropout) {
        return Err(LayerError::InvalidConfig {
            layer: "GateModule",
            why: format!("dropout {} must lie in [0, 1)", config.dropout),
        });
    }
    let conv = masked_conv2d(
        geometry.in_channels,
        out_channels,
        geometry.kernel,
        MaskedConv2dConfig {
            stride: geometry.stride,
            padding: geometry.padding,
            bias: false,
            uniform_bound: config.conv_uniform_bound,
            ..Default::default()
        },
        vb.pp("conv"),
    )?;
    let conv_bn = candle_nn::batch_norm(out_channels, config.batch_norm, vb.pp("conv_bn"))?;
    let flat = out_channels * geometry.out_height() * geometry.out_width();
    let dense_config = DenseConfig {
        bias: true,
        uniform_bound: config.uniform_bound,
        bias_init: config.bias_init,
    };
    let [h1, h2] = config.hidden;
    let hidden1 = dense(
        flat,
        h1,
        DenseConfig {
            bias_init: config.hidden1_bias,
            ..dense_config
        },
        vb.pp("hidden1"),
    )?;
    let hidden1_bn = candle_nn::batch_norm(h1, config.batch_norm, vb.pp("hidden1_bn"))?;
    let hidden2 = dense(h1, h2, dense_config, vb.pp("hidden2"))?;
    let k = geometry.kernel;
    let mask_shape = [out_channels, geometry.in_channels, k, k];
    let logits = dense(
        h2,
        mask_shape.iter().product(),
        dense_config,
        vb.pp("logits"),
    )?;
    Ok(GateModule {
        conv,
        conv_bn,
        hidden1,
        hidden1_bn,
        hidden2,
        logits,
        config,
        mask_shape,
        geometry,
        last: Mutex::new(None),
    })
}

/// The gate of `conv` (its filters, input channels, kernel, stride and
/// padding) on inputs of `height × width`: no geometry to work out by hand.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use sgbn_layers::{GateConfig, MaskedConv2dConfig, SeededVarMap, gate_for, masked_conv2d};
///
/// let store = SeededVarMap::new(0);
/// let vb = store.var_builder(DType::F32, &Device::Cpu);
/// let conv = masked_conv2d(1, 4, 3, MaskedConv2dConfig::default(), vb.pp("conv"))?;
/// let config = GateConfig { hidden: [16, 16], ..GateConfig::default() };
/// let gate = gate_for(&conv, 8, 8, config, vb.pp("gate"))?;
/// let x = Tensor::zeros((2, 1, 8, 8), DType::F32, &Device::Cpu)?;
/// let masks = gate.masks(&x, None, false, &mut sgbn_estimators::seeded_rng(0))?;
/// assert_eq!(masks.dims(), [2, 4, 1, 3, 3]);
/// // A wrong input size is named as such, not as a matmul mismatch.
/// let wrong = Tensor::zeros((2, 1, 9, 9), DType::F32, &Device::Cpu)?;
/// let err = gate.masks(&wrong, None, false, &mut sgbn_estimators::seeded_rng(0)).unwrap_err();
/// assert!(err.to_string().contains("GateModule"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn gate_for(
    conv: &MaskedConv2d,
    height: usize,
    width: usize,
    config: GateConfig,
    vb: VarBuilder<'_>,
) -> Result<GateModule> {
    let (out_channels, in_channels, kernel, _) = conv.weight().dims4()?;
    let geometry = ConvGeometry {
        in_channels,
        height,
        width,
        kernel,
        stride: conv.config().stride,
        padding: conv.config().padding,
    };
    gate_module(geometry, out_channels, config, vb)
}

impl GateModule {
    /// The configuration.
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// Shape of one sample's mask: `[C_out, C_in, k, k]`.
    pub fn mask_shape(&self) -> [usize; 4] {
        self.mask_shape
    }

    /// What the gate did in its last forward pass.
    pub fn last_trace(&self) -> Option<GateTrace> {
        let (logits, masks, state_input) = self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let probabilities = candle_nn::ops::sigmoid(&logits)
            .and_then(|p| p.reshape(masks.shape()))
            .ok()?;
        Some(GateTrace {
            probabilities,
            masks,
            state_input,
            activation: self.config.activation,
        })
    }

    fn dropout<R: Rng + ?Sized>(&self, x: Tensor, train: bool, rng: &mut R) -> Result<Tensor> {
        let p = self.config.dropout;
        if !train || p == 0.0 {
            return Ok(x);
        }
        let keep = uniform_like(&x, rng)?.ge(p)?.to_dtype(x.dtype())?;
        Ok(((x * keep)? / (1.0 - p))?)
    }

    /// The gate's logits `a`, `(B, C_out·C_in·k·k)`. With `shared_weight`
    /// (1W-SGBN, §4.6.3) the gate conv uses the main conv's weight instead
    /// of its own.
    pub fn logits<R: Rng + ?Sized>(
        &self,
        x: &Tensor,
        shared_weight: Option<&Tensor>,
        train: bool,
        rng: &mut R,
    ) -> Result<Tensor> {
        Ok(self
            .logits_and_state(x, shared_weight, train, GateBpda::default(), rng)?
            .0)
    }

    /// The logits and the input of the state activation.
    fn logits_and_state<R: Rng + ?Sized>(
        &self,
        x: &Tensor,
        shared_weight: Option<&Tensor>,
        train: bool,
        bpda: GateBpda,
        rng: &mut R,
    ) -> Result<(Tensor, Tensor)> {
        let g = &self.geometry;
        let dims = x.dims();
        if dims.len() != 4 || dims[1..] != [g.in_channels, g.height, g.width] {
            return Err(LayerError::BadInput {
                layer: "GateModule",
                expected: format!(
                    "(B, {}, {}, {}), the input of the conv it gates as the gate was built \
                     (kernel {}, stride {}, padding {})",
                    g.in_channels, g.height, g.width, g.kernel, g.stride, g.padding
                ),
                found: dims.to_vec(),
            });
        }
        let h = match shared_weight {
            Some(w) => {
                MaskedConv2d::new(w.clone(), None, *self.conv.config()).forward_masked(x, None)?
            }
            None => self.conv.forward_masked(x, None)?,
        };
        let h = relu(&batch_norm_t(
            &self.conv_bn,
            &self.config.batch_norm,
            &h,
            train,
        )?)?
        .flatten_from(1)?;
        let h = self.hidden1.forward(&h)?;
        let h = match self.config.order {
            GateOrder::ReluThenBatchNorm => {
                batch_norm_t(&self.hidden1_bn, &self.config.batch_norm, &relu(&h)?, train)?
            }
            GateOrder::BatchNormThenRelu => relu(&batch_norm_t(
                &self.hidden1_bn,
                &self.config.batch_norm,
                &h,
                train,
            )?)?,
        };
        let h = match self.config.dropout_sites {
            GateDropoutSites::EachHidden => self.dropout(h, train, rng)?,
            GateDropoutSites::StateOnly => h,
        };
        let z = self.hidden2.forward(&h)?;
        let f = match self.config.activation {
            GateActivation::Asinh => asinh(&z)?,
            GateActivation::Tanh => z.tanh()?,
        };
        // BPDA: the value of f(z), the gradient of the identity.
        let f = if bpda.activation {
            (f.detach() + (&z - z.detach())?)?
        } else {
            f
        };
        let h = self.dropout(f, train, rng)?;
        Ok((self.logits.forward(&h)?, z.detach()))
    }

    /// Masks for the conv layer, `(B, C_out, C_in, k, k)`, sampled with `rng`
    /// (in training and at test time alike, as in the thesis); records a
    /// [`GateTrace`].
    pub fn masks<R: Rng + ?Sized>(
        &self,
        x: &Tensor,
        shared_weight: Option<&Tensor>,
        train: bool,
        rng: &mut R,
    ) -> Result<Tensor> {
        self.masks_with(x, shared_weight, train, GateBpda::default(), rng)
    }

    /// [`Self::masks`] with the backward pass of the parts `bpda` names
    /// replaced by the identity (same values, same draws from `rng`).
    pub fn masks_with<R: Rng + ?Sized>(
        &self,
        x: &Tensor,
        shared_weight: Option<&Tensor>,
        train: bool,
        bpda: GateBpda,
        rng: &mut R,
    ) -> Result<Tensor> {
        let (a, state_input) = self.logits_and_state(x, shared_weight, train, bpda, rng)?;
        let masks = match self.config.output {
            GateOutput::HardSte => bernoulli_hard_ste(&a, rng)?,
            GateOutput::Sigmoid => candle_nn::ops::sigmoid(&a)?,
            GateOutput::StochasticSign => stochastic_sign_ste(&a, rng)?,
        };
        let masks = if bpda.sampling && self.config.output != GateOutput::HardSte {
            (masks.detach() + (&a - a.detach())?)?
        } else {
            masks
        };
        let b = x.dim(0)?;
        let [o, c, k, _] = self.mask_shape;
        let masks = masks.reshape((b, o, c, k, k))?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((a.detach(), masks.detach(), state_input));
        Ok(masks)
    }
}

/// `asinh(x) = ln(x + sqrt(x² + 1))` with the exact gradient
/// `1 / sqrt(x² + 1)`: a CPU custom op (the library's `asinh`, stable for
/// any |x|); on other devices a composition of candle ops, odd-symmetric so
/// that large negative inputs do not cancel.
pub fn asinh(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() {
        return Ok(x.apply_op1(Asinh)?);
    }
    let branch =
        |v: &Tensor| -> candle_core::Result<Tensor> { (v + (v.sqr()? + 1.0)?.sqrt()?)?.log() };
    Ok((branch(&x.relu()?)? - branch(&x.neg()?.relu()?)?)?)
}

struct Asinh;

impl candle_core::CustomOp1 for Asinh {
    fn name(&self) -> &'static str {
        "sgbn-asinh"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use candle_core::{CpuStorage, backend::BackendStorage, cpu_backend::unary_map};
        let out = match storage {
            CpuStorage::F32(v) => CpuStorage::F32(unary_map(v, layout, f32::asinh)),
            CpuStorage::F64(v) => CpuStorage::F64(unary_map(v, layout, f64::asinh)),
            other => candle_core::bail!("asinh: unsupported dtype {:?}", other.dtype()),
        };
        Ok((out, layout.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let slope = (arg.sqr()? + 1.0)?.sqrt()?.recip()?;
        Ok(Some(grad_res.mul(&slope)?))
    }
}
