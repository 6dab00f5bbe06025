//! Fully connected layer stored `(in, out)`, or in column panels when it
//! is wide and on the CPU.

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use crate::kernels::column_panels::{PANEL_WIDTH, from_column_panels};
use crate::kernels::dense_kernel::{DenseForward, MIN_FAST_OUTPUTS, WeightLayout};
use crate::{LayerError, Result, glorot_uniform};

/// Settings of a [`Dense`] layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseConfig {
    /// Whether to add a bias.
    pub bias: bool,
    /// Initialization of the weight: `None` for Glorot uniform (the
    /// thesis's chapter 3), `Some(a)` for `U(−a, a)` (the authors' code
    /// uses `a = 1` in the gates).
    pub uniform_bound: Option<f64>,
    /// Initialization of the bias.
    pub bias_init: BiasInit,
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self {
            bias: true,
            uniform_bound: None,
            bias_init: BiasInit::Zero,
        }
    }
}

/// How a bias starts.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BiasInit {
    /// Zero (the thesis's text says nothing; candle-nn's default).
    #[default]
    Zero,
    /// A constant (the authors' code: 0.1 for the gate's first hidden layer).
    Const(f64),
    /// `U(−a, a)` (the authors' code: `a = 1` for most dense layers).
    Uniform(f64),
}

impl BiasInit {
    fn init(self) -> Result<candle_nn::Init> {
        Ok(match self {
            Self::Zero => candle_nn::Init::Const(0.0),
            Self::Const(c) if c.is_finite() => candle_nn::Init::Const(c),
            Self::Uniform(a) if a.is_finite() && a > 0.0 => {
                candle_nn::Init::Uniform { lo: -a, up: a }
            }
            other => {
                return Err(LayerError::InvalidConfig {
                    layer: "Dense",
                    why: format!(
                        "bias initialization {other:?} needs a finite value (a bound > 0)"
                    ),
                });
            }
        })
    }
}

/// `y = x·W + b` with `W` stored `(in, out)`, or as `(out / 16, in, 16)`
/// column panels (see [`to_column_panels`](crate::to_column_panels)).
///
/// candle-nn's `Linear` stores `(out, in)` and multiplies by `Wᵀ`; its
/// backward then adds a transposed gradient with strided reads, which
/// took 78 ms (measured on the 2-core development machine) for the gate's 26 M-weight layer. Storing
/// `(in, out)` keeps every product contiguous; the panels let the products
/// of a wide layer stream the weight without packing it.
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Option<Tensor>,
}

/// Whether [`dense`] stores a layer's weight in column panels: on the CPU,
/// in f32 or f64, with at least 8,192 outputs, a multiple of 16 (the
/// gate's 512 → 51,200 logits layer).
pub fn stores_column_panels(out_dim: usize, dtype: DType, device: &candle_core::Device) -> bool {
    device.is_cpu()
        && matches!(dtype, DType::F32 | DType::F64)
        && out_dim >= MIN_FAST_OUTPUTS
        && out_dim.is_multiple_of(PANEL_WIDTH)
}

/// Builds a [`Dense`] layer with parameters `weight` and `bias` `(out,)`
/// under `vb`: the weight `(in, out)`, or `(out / 16, in, 16)` in column
/// panels where [`stores_column_panels`] says so. Its initial values are
/// drawn in the order of the stored layout.
pub fn dense(
    in_dim: usize,
    out_dim: usize,
    config: DenseConfig,
    vb: VarBuilder<'_>,
) -> Result<Dense> {
    if in_dim == 0 || out_dim == 0 {
        return Err(LayerError::InvalidConfig {
            layer: "Dense",
            why: format!("dimensions {in_dim}→{out_dim} must be > 0"),
        });
    }
    let init = match config.uniform_bound {
        Some(a) if a.is_finite() && a > 0.0 => candle_nn::Init::Uniform { lo: -a, up: a },
        Some(a) => {
            return Err(LayerError::InvalidConfig {
                layer: "Dense",
                why: format!("uniform bound {a} must be finite and > 0"),
            });
        }
        None => glorot_uniform(in_dim, out_dim),
    };
    let weight = if stores_column_panels(out_dim, vb.dtype(), vb.device()) {
        vb.get_with_hints((out_dim / PANEL_WIDTH, in_dim, PANEL_WIDTH), "weight", init)?
    } else {
        vb.get_with_hints((in_dim, out_dim), "weight", init)?
    };
    let bias = if config.bias {
        Some(vb.get_with_hints(out_dim, "bias", config.bias_init.init()?)?)
    } else {
        None
    };
    Ok(Dense { weight, bias })
}

impl Dense {
    /// A layer over existing tensors: weight `(in, out)`, or of rank 3 in
    /// column panels `(out / 16, in, 16)`; bias `(out,)`.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self { weight, bias }
    }

    /// The weight as stored: `(in, out)`, or `(out / 16, in, 16)` in
    /// column panels.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Whether the weight is stored in column panels.
    pub fn in_column_panels(&self) -> bool {
        self.weight.rank() == 3
    }

    /// The weight as the `(in, out)` matrix (a copy when it is stored in
    /// column panels; differentiable).
    pub fn weight_matrix(&self) -> candle_core::Result<Tensor> {
        if self.in_column_panels() {
            from_column_panels(&self.weight).map_err(|e| match e {
                LayerError::Candle(e) => e,
                other => candle_core::Error::Msg(other.to_string()),
            })
        } else {
            Ok(self.weight.clone())
        }
    }

    /// The bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// `x·W + b` through candle's tensor ops: the reference that the fast
    /// path of [`Module::forward`] is tested against, and the path on every
    /// device but the CPU.
    pub fn forward_reference(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = x.matmul(&self.weight_matrix()?)?;
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }

    /// Whether `x` goes through the CPU fast path (custom ops, bias
    /// fused): a CPU matrix of f32 or f64, with a weight in column panels
    /// (their own products) or a wide `(in, out)` one (at least 8,192
    /// outputs: products split over column blocks).
    fn fast_path(&self, x: &Tensor) -> bool {
        x.device().is_cpu()
            && self.weight.device().is_cpu()
            && x.rank() == 2
            && matches!(x.dtype(), DType::F32 | DType::F64)
            && self.weight.dtype() == x.dtype()
            && (self.in_column_panels() || self.weight.dim(1).is_ok_and(|o| o >= MIN_FAST_OUTPUTS))
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if !self.fast_path(x) {
            return self.forward_reference(x);
        }
        let x = x.contiguous()?;
        let weight = self.weight.contiguous()?;
        let op = DenseForward(if self.in_column_panels() {
            WeightLayout::ColumnPanels
        } else {
            WeightLayout::Matrix
        });
        match &self.bias {
            Some(b) => x.apply_op3(&weight, &b.contiguous()?, op),
            None => x.apply_op2(&weight, op),
        }
    }
}
