//! ReLU times one trainable scalar: the "scaled" BNN of Galloway et al.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::Result;

/// Initial value of the scale (Galloway et al.'s `SReLU`: 0.05).
pub const SCALED_RELU_INIT: f64 = 0.05;

/// `y = s · relu(x)` with a trainable scalar `s` (parameter `scale`, shape
/// `(1,)`), after each binary layer of the "scaled" BNN (Galloway et al.
/// 2018, whose BNN the thesis used, §4.3.1): the ±1 products of a binary
/// layer are large, and `s` brings them back to a useful range.
#[derive(Debug, Clone)]
pub struct ScaledRelu {
    scale: Tensor,
}

/// Builds a [`ScaledRelu`] with `scale` = 0.05 under `vb`.
pub fn scaled_relu(vb: VarBuilder<'_>) -> Result<ScaledRelu> {
    let scale = vb.get_with_hints(1, "scale", candle_nn::Init::Const(SCALED_RELU_INIT))?;
    Ok(ScaledRelu { scale })
}

impl ScaledRelu {
    /// The scale `s`, shape `(1,)`.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }

    /// `s · relu(x)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(crate::relu(x)?.broadcast_mul(&self.scale)?)
    }
}
