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
//! - [`Dense`]: a fully connected layer stored `(in, out)`.
//!
//! Planned (issue "Layers and models"): binarized dense layers, stochastic activation pruning (eq. 2.23–2.25),
//! DropConnect and random-mask conv, adaptive dropout, BNN layers.

#![deny(missing_docs)]

mod dense;
mod error;
mod gate_module;
mod im2col;
mod masked_conv2d;
mod seeded_var_map;

pub use dense::{Dense, DenseConfig, dense};
pub use error::{LayerError, Result};
pub use gate_module::{
    GateActivation, GateConfig, GateModule, GateOutput, GateTrace, asinh, gate_module,
};
pub use im2col::ConvGeometry;
pub use masked_conv2d::{MaskedConv2d, MaskedConv2dConfig, masked_conv2d};
pub use seeded_var_map::{SeededVarMap, glorot_uniform};
