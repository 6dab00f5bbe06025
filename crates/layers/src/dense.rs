//! Fully connected layer stored `(in, out)`.

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use crate::dense_kernel::{DenseForward, MIN_FAST_OUTPUTS};
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
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self {
            bias: true,
            uniform_bound: None,
        }
    }
}

/// `y = x·W + b` with `W` stored `(in, out)`.
///
/// candle-nn's `Linear` stores `(out, in)` and multiplies by `Wᵀ`; its
/// backward then adds a transposed gradient with strided reads, which
/// CANDLE-NOTES measured at 78 ms for the gate's 26 M-weight layer. Storing
/// `(in, out)` keeps every product contiguous.
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Option<Tensor>,
}

/// Builds a [`Dense`] layer with parameters `weight` `(in, out)` and `bias`
/// `(out,)` under `vb`.
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
    let weight = vb.get_with_hints((in_dim, out_dim), "weight", init)?;
    let bias = if config.bias {
        Some(vb.get_with_hints(out_dim, "bias", candle_nn::Init::Const(0.0))?)
    } else {
        None
    };
    Ok(Dense { weight, bias })
}

impl Dense {
    /// A layer over existing tensors: weight `(in, out)`, bias `(out,)`.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self { weight, bias }
    }

    /// The weight, `(in, out)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// `x·W + b` through candle's tensor ops: the reference that the fast
    /// path of [`Module::forward`] is tested against, and the path on every
    /// device but the CPU.
    pub fn forward_reference(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = x.matmul(&self.weight)?;
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }

    /// Whether `x` goes through the CPU fast path (custom ops whose
    /// products are split over column blocks, bias fused): a wide layer
    /// (at least 8,192 outputs) on a CPU matrix of f32 or f64.
    fn fast_path(&self, x: &Tensor) -> bool {
        x.device().is_cpu()
            && x.rank() == 2
            && matches!(x.dtype(), DType::F32 | DType::F64)
            && self.weight.dtype() == x.dtype()
            && self.weight.dim(1).is_ok_and(|o| o >= MIN_FAST_OUTPUTS)
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if !self.fast_path(x) {
            return self.forward_reference(x);
        }
        let x = x.contiguous()?;
        let weight = self.weight.contiguous()?;
        match &self.bias {
            Some(b) => x.apply_op3(&weight, &b.contiguous()?, DenseForward),
            None => x.apply_op2(&weight, DenseForward),
        }
    }
}
