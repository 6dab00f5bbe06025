//! The binary dense layer of the BNN (thesis §2.3.2, §4.3.1).

use candle_core::{ModuleT, Tensor};
use candle_nn::{BatchNorm, BatchNormConfig, VarBuilder};
use rand::Rng;

use crate::{BnnBinarization, LayerError, Result, bnn_binarization::BINARY_WEIGHT_STD};

/// `sign(BN(x)) · B(W)`: the dense counterpart of [`crate::BnnConv2d`],
/// `W` stored `(in, out)` (no bias). Parameters: `weight` (normal, σ 0.2)
/// and `bn_in.*`.
#[derive(Debug, Clone)]
pub struct BnnDense {
    weight: Tensor,
    input_bn: BatchNorm,
    binarization: BnnBinarization,
}

/// Builds a [`BnnDense`] under `vb`.
pub fn bnn_dense(
    in_dim: usize,
    out_dim: usize,
    binarization: BnnBinarization,
    batch_norm: BatchNormConfig,
    vb: VarBuilder<'_>,
) -> Result<BnnDense> {
    if in_dim == 0 || out_dim == 0 {
        return Err(LayerError::InvalidConfig {
            layer: "BnnDense",
            why: format!("dimensions {in_dim}→{out_dim} must be > 0"),
        });
    }
    let weight = vb.get_with_hints(
        (in_dim, out_dim),
        "weight",
        candle_nn::Init::Randn {
            mean: 0.0,
            stdev: BINARY_WEIGHT_STD,
        },
    )?;
    let input_bn = candle_nn::batch_norm(in_dim, batch_norm, vb.pp("bn_in"))?;
    Ok(BnnDense {
        weight,
        input_bn,
        binarization,
    })
}

impl BnnDense {
    /// The real-valued weight `(in, out)` behind the ±1 weights.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `sign(BN(x)) · B(W)` for `x` `(B, in)`.
    pub fn forward<R: Rng + ?Sized>(&self, x: &Tensor, train: bool, rng: &mut R) -> Result<Tensor> {
        let x = self.input_bn.forward_t(x, train)?;
        let x = self.binarization.inputs(&x, rng)?;
        let w = self.binarization.weights(&self.weight, rng)?;
        Ok(x.matmul(&w)?)
    }
}
