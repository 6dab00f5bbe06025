//! Convolution with per-sample weight masks (thesis eq. 4.1–4.2).

use std::sync::Mutex;

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use crate::{ConvGeometry, LayerError, Result, glorot_uniform, kernels::conv_kernel::ConvForward};

/// Settings of a [`MaskedConv2d`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskedConv2dConfig {
    /// Stride (both directions).
    pub stride: usize,
    /// Zero padding on each side. The authors' code uses VALID padding (0).
    pub padding: usize,
    /// Whether to add a bias (the thesis's conv layers have none).
    pub bias: bool,
    /// Which implementation computes the convolution.
    pub implementation: ConvImplementation,
    /// Initialization of the weight: `None` for Glorot uniform (the
    /// thesis's text), `Some(a)` for `U(−a, a)` (the authors' code: 1).
    pub uniform_bound: Option<f64>,
}

/// How a [`MaskedConv2d`] computes; both give the same function and
/// gradients (tested on random inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvImplementation {
    /// Custom CPU ops (per-sample im2col + gemm, rayon over samples,
    /// hand-written backward) for f32/f64 on the CPU; the reference path
    /// elsewhere (e.g. CUDA).
    #[default]
    Fast,
    /// im2col by one `index_select` and one batched matmul, differentiated
    /// by candle's autograd. Runs on every device.
    Reference,
}

impl Default for MaskedConv2dConfig {
    fn default() -> Self {
        Self {
            stride: 1,
            padding: 0,
            bias: false,
            implementation: ConvImplementation::Fast,
            uniform_bound: None,
        }
    }
}

/// A 2-D convolution whose weight `W` (C_out, C_in, k, k) can be multiplied,
/// per sample, by a mask `h_b` of the same shape: `W'_b = W ⊙ h_b` (eq. 4.1),
/// and sample `b` is convolved with its own `W'_b` (eq. 4.2).
///
/// The whole batch is one computation, never a loop of candle ops over
/// samples: on the CPU (f32/f64), custom ops run im2col and one gemm per
/// sample in parallel with a hand-written backward
/// ([`ConvImplementation::Fast`]); elsewhere, the patches are gathered by one
/// `index_select` and multiplied by the masked weights in one batched matmul
/// ([`ConvImplementation::Reference`]). Gradients flow to the input, the
/// weight and the masks.
#[derive(Debug)]
pub struct MaskedConv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    config: MaskedConv2dConfig,
    index: Mutex<Option<(ConvGeometry, Tensor)>>,
}

/// Builds a [`MaskedConv2d`] with Glorot-uniform weights named `weight` (and
/// `bias`, zeros) under `vb`.
pub fn masked_conv2d(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    config: MaskedConv2dConfig,
    vb: VarBuilder<'_>,
) -> Result<MaskedConv2d> {
    if in_channels == 0 || out_channels == 0 || kernel == 0 || config.stride == 0 {
        return Err(LayerError::InvalidConfig {
            layer: "MaskedConv2d",
            why: format!(
                "channels {in_channels}→{out_channels}, kernel {kernel}, stride {} must all be > 0",
                config.stride
            ),
        });
    }
    let receptive = kernel * kernel;
    let init = match config.uniform_bound {
        None => glorot_uniform(in_channels * receptive, out_channels * receptive),
        Some(a) if a.is_finite() && a > 0.0 => candle_nn::Init::Uniform { lo: -a, up: a },
        Some(a) => {
            return Err(LayerError::InvalidConfig {
                layer: "MaskedConv2d",
                why: format!("uniform bound {a} must be finite and > 0"),
            });
        }
    };
    let weight = vb.get_with_hints((out_channels, in_channels, kernel, kernel), "weight", init)?;
    let bias = if config.bias {
        Some(vb.get_with_hints(out_channels, "bias", candle_nn::Init::Const(0.0))?)
    } else {
        None
    };
    Ok(MaskedConv2d::new(weight, bias, config))
}

impl MaskedConv2d {
    /// A layer over existing tensors (weight `(C_out, C_in, k, k)`).
    pub fn new(weight: Tensor, bias: Option<Tensor>, config: MaskedConv2dConfig) -> Self {
        Self {
            weight,
            bias,
            config,
            index: Mutex::new(None),
        }
    }

    /// The shared weight `W`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &MaskedConv2dConfig {
        &self.config
    }

    /// Number of weights, i.e. of mask values per sample.
    pub fn weight_count(&self) -> usize {
        self.weight.elem_count()
    }

    /// The geometry of this layer on an input of shape `(B, C, H, W)`.
    pub fn geometry(&self, x: &Tensor) -> Result<ConvGeometry> {
        let (o, c, k, _) = self.weight.dims4()?;
        let dims = x.dims();
        if dims.len() != 4 || dims[1] != c {
            return Err(LayerError::BadInput {
                layer: "MaskedConv2d",
                expected: format!("(B, {c}, H, W) for {o} filters of {c}x{k}x{k}"),
                found: dims.to_vec(),
            });
        }
        let g = ConvGeometry {
            in_channels: c,
            height: dims[2],
            width: dims[3],
            kernel: k,
            stride: self.config.stride,
            padding: self.config.padding,
        };
        g.validate()?;
        Ok(g)
    }

    fn patches(&self, x: &Tensor) -> Result<(ConvGeometry, Tensor)> {
        let g = self.geometry(x)?;
        let mut cached = self.index.lock().unwrap_or_else(|e| e.into_inner());
        let index = match &*cached {
            Some((cg, idx)) if *cg == g && idx.device().same_device(x.device()) => idx.clone(),
            _ => {
                let idx = g.patch_index(x.device())?;
                *cached = Some((g, idx.clone()));
                idx
            }
        };
        drop(cached);
        Ok((g, g.patches(x, &index)?))
    }

    /// Convolves `x` `(B, C_in, H, W)`; with `masks` `(B, C_out, C_in, k, k)`
    /// (or `(B, C_out·C_in·k·k)`), sample `b` uses `W ⊙ masks[b]`.
    pub fn forward_masked(&self, x: &Tensor, masks: Option<&Tensor>) -> Result<Tensor> {
        let g = self.geometry(x)?;
        let b = x.dim(0)?;
        let out_channels = self.weight.dim(0)?;
        let patch = g.patch_len();
        if let Some(m) = masks
            && (m.elem_count() != b * out_channels * patch || m.dim(0)? != b)
        {
            return Err(LayerError::BadInput {
                layer: "MaskedConv2d masks",
                expected: format!(
                    "(B={b}, {out_channels}, {}, {}, {})",
                    g.in_channels, g.kernel, g.kernel
                ),
                found: m.dims().to_vec(),
            });
        }
        let w = self.weight.reshape((out_channels, patch))?;
        let fast = self.config.implementation == ConvImplementation::Fast
            && x.device().is_cpu()
            && matches!(x.dtype(), DType::F32 | DType::F64)
            && x.dtype() == w.dtype()
            && masks.is_none_or(|m| m.dtype() == x.dtype());
        let y = if fast {
            let op = ConvForward {
                geometry: g,
                out_channels,
            };
            let x = x.contiguous()?;
            let w = w.contiguous()?;
            match masks {
                Some(m) => {
                    let m = m.reshape((b, out_channels, patch))?.contiguous()?;
                    x.apply_op3(&w, &m, op)?
                }
                None => x.apply_op2(&w, op)?,
            }
        } else {
            let (_, cols) = self.patches(x)?;
            let y = match masks {
                Some(m) => {
                    let m = m.reshape((b, out_channels, patch))?;
                    m.broadcast_mul(&w.unsqueeze(0)?)?.matmul(&cols)?
                }
                None => w.broadcast_matmul(&cols)?,
            };
            y.reshape((b, out_channels, g.out_height(), g.out_width()))?
        };
        Ok(match &self.bias {
            Some(bias) => y.broadcast_add(&bias.reshape((1, out_channels, 1, 1))?)?,
            None => y,
        })
    }
}

impl Module for MaskedConv2d {
    /// The unmasked convolution.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.forward_masked(x, None)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))
    }
}
