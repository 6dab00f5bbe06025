//! The binary conv layer of the BNN (Courbariaux et al. 2016; Galloway et al.
//! 2018; thesis §2.3.2, eq. 2.17–2.22).

use candle_core::{ModuleT, Tensor};
use candle_nn::{BatchNorm, BatchNormConfig, VarBuilder};
use rand::Rng;

use crate::{
    BnnBinarization, LayerError, MaskedConv2d, MaskedConv2dConfig, Result,
    bnn_binarization::BINARY_WEIGHT_STD,
};

/// Settings of a [`BnnConv2d`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BnnConv2dConfig {
    /// Stride and padding of the convolution (no bias).
    pub conv: MaskedConv2dConfig,
    /// Weight binarization and straight-through gradient.
    pub binarization: BnnBinarization,
    /// The batch norm that centres the input before `sign`.
    pub batch_norm: BatchNormConfig,
}

/// `conv(sign(BN(x)), B(W))`: the input is batch-normalized (so that its
/// sign carries information), binarized to ±1 by `sign`, and convolved with
/// ±1 weights `B(W)`, deterministic `sign(W)` or stochastic (eq. 2.17–2.19).
/// Gradients pass both binarizations by the straight-through estimator
/// (htanh, eq. 2.21, or Galloway et al.'s clipping). This is the layout of
/// Galloway et al.'s binary `Conv2D` / `Conv2DRand`, whose code the thesis
/// used for its BNN. Parameters: `weight` `(C_out, C_in, k, k)`, normal with
/// σ 0.2, and the input batch norm `bn_in.{weight, bias, running_mean,
/// running_var}`.
#[derive(Debug, Clone)]
pub struct BnnConv2d {
    weight: Tensor,
    input_bn: BatchNorm,
    config: BnnConv2dConfig,
}

/// Builds a [`BnnConv2d`] under `vb`.
pub fn bnn_conv2d(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    config: BnnConv2dConfig,
    vb: VarBuilder<'_>,
) -> Result<BnnConv2d> {
    if in_channels == 0 || out_channels == 0 || kernel == 0 || config.conv.stride == 0 {
        return Err(LayerError::InvalidConfig {
            layer: "BnnConv2d",
            why: format!(
                "channels {in_channels}→{out_channels}, kernel {kernel}, stride {} must all be > 0",
                config.conv.stride
            ),
        });
    }
    let weight = vb.get_with_hints(
        (out_channels, in_channels, kernel, kernel),
        "weight",
        candle_nn::Init::Randn {
            mean: 0.0,
            stdev: BINARY_WEIGHT_STD,
        },
    )?;
    let input_bn = candle_nn::batch_norm(in_channels, config.batch_norm, vb.pp("bn_in"))?;
    Ok(BnnConv2d {
        weight,
        input_bn,
        config: BnnConv2dConfig {
            conv: MaskedConv2dConfig {
                bias: false,
                ..config.conv
            },
            ..config
        },
    })
}

impl BnnConv2d {
    /// The real-valued weight behind the ±1 weights.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The configuration.
    pub fn config(&self) -> &BnnConv2dConfig {
        &self.config
    }

    /// The binary convolution of `x` `(B, C_in, H, W)`; `train` selects batch
    /// statistics (and updates the running ones) in the input batch norm;
    /// stochastic weights draw from `rng` (one weight draw per pass, shared
    /// by the batch).
    pub fn forward<R: Rng + ?Sized>(&self, x: &Tensor, train: bool, rng: &mut R) -> Result<Tensor> {
        let b = &self.config.binarization;
        let x = self.input_bn.forward_t(x, train)?;
        let x = b.inputs(&x, rng)?;
        let w = b.weights(&self.weight, rng)?;
        MaskedConv2d::new(w, None, self.config.conv).forward_masked(&x, None)
    }
}
