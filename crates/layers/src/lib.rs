//! # sgbn-layers
//!
//! Layers of the thesis, in the style of candle-nn (plain structs, a
//! `*Config` with `Default`, builders taking a `VarBuilder`).
//!
//! Built so far:
//!
//! - [`MaskedConv2d`]: per-sample masked weights × shared weights, convolved
//!   per sample as one batched computation (eq. 4.1–4.2), with gradients to
//!   the input, the weight and the masks;
//! - [`SeededVarMap`]: parameters initialized from a seeded generator
//!   (candle's CPU generator cannot be seeded), order-independent;
//! - [`ConvGeometry`]: im2col as one `index_select`;
//! - [`GateModule`]: the gate of Tables 4.1–4.4 (ST, DT and ±1 outputs, the
//!   authors'-code options, shared weights for 1W-SGBN), with a trace of its
//!   last masks and σ(a);
//! - [`Dense`]: a fully connected layer stored `(in, out)`; wide layers
//!   (≥ 8,192 outputs, the gate's logits) take a CPU fast path (products split
//!   over column blocks, bias fused) tested against
//!   [`Dense::forward_reference`];
//! - [`batch_norm_t`]: candle-nn's `BatchNorm` in training mode through two
//!   fused CPU ops with a hand-written backward (same function and running
//!   statistics, tested against candle-nn);
//! - [`stochastic_activation_pruning`] (SAP, eq. 2.23–2.25);
//! - [`RandomWeightMask`]: DropConnect and random-mask conv weights.
//!
//! - [`AdaptiveDropout`] (Ba & Frey's standout, ST and DT);
//! - BNN layers (eq. 2.17–2.22): [`BnnConv2d`], [`BnnDense`] (±1 inputs
//!   and weights, deterministic or stochastic, htanh or clipped STE) and
//!   [`ScaledRelu`];
//! - [`relu`]: candle's ReLU with a one-pass backward;
//! - [`on_worker_thread`]: run a whole step on a rayon worker (see
//!   `docs/performance.md`).
//!
//! The fast CPU paths these layers run on (custom ops, products, the one
//! AVX2/FMA detection of the workspace) live in [`kernels`].
//!
//! ## Quick start
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use sgbn_layers::{GateConfig, MaskedConv2dConfig, SeededVarMap, gate_for, masked_conv2d};
//!
//! let store = SeededVarMap::new(0); // every initial value from a seeded generator
//! let vb = store.var_builder(DType::F32, &Device::Cpu);
//! let conv = masked_conv2d(1, 4, 3, MaskedConv2dConfig::default(), vb.pp("conv"))?;
//! let gate = gate_for(&conv, 8, 8, GateConfig { hidden: [16, 16], ..GateConfig::default() }, vb.pp("gate"))?;
//! let x = Tensor::ones((2, 1, 8, 8), DType::F32, &Device::Cpu)?;
//! // One binary mask per image and weight (eq. 4.1), then the masked conv (eq. 4.2).
//! let masks = gate.masks(&x, None, true, &mut sgbn_estimators::seeded_rng(1))?;
//! let y = conv.forward_masked(&x, Some(&masks))?;
//! assert_eq!(y.dims(), [2, 4, 6, 6]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod adaptive_dropout;
mod bnn_binarization;
mod bnn_conv2d;
mod bnn_dense;
mod dense;
mod error;
mod frozen;
mod gate_module;
pub mod kernels;
mod masked_conv2d;
mod random_weight_mask;
mod scaled_relu;
mod seeded_var_map;
mod stochastic_activation_pruning;

pub use adaptive_dropout::{AdaptiveDropout, AdaptiveDropoutMode, adaptive_dropout};
pub use bnn_binarization::{BnnBinarization, WeightBinarization};
pub use bnn_conv2d::{BnnConv2d, BnnConv2dConfig, bnn_conv2d};
pub use bnn_dense::{BnnDense, bnn_dense};
pub use dense::{BiasInit, Dense, DenseConfig, dense, stores_column_panels};
pub use error::{LayerError, Result};
pub use frozen::frozen_var_builder;
pub use gate_module::{
    GateActivation, GateBpda, GateConfig, GateDropoutSites, GateModule, GateOrder, GateOutput,
    GateTrace, asinh, gate_for, gate_module,
};
pub use kernels::batch_norm::{batch_norm_t, batch_norm_train};
pub use kernels::column_panels::{
    PANEL_WIDTH, convert_dense_weight, from_column_panels, to_column_panels,
};
pub use kernels::im2col::ConvGeometry;
pub use kernels::relu::relu;
pub use kernels::worker_thread::on_worker_thread;
pub use masked_conv2d::{ConvImplementation, MaskedConv2d, MaskedConv2dConfig, masked_conv2d};
pub use random_weight_mask::RandomWeightMask;
pub use scaled_relu::{SCALED_RELU_INIT, ScaledRelu, scaled_relu};
pub use seeded_var_map::{SeededVarMap, glorot_uniform};
pub use stochastic_activation_pruning::stochastic_activation_pruning;
