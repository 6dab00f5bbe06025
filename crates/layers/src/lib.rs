//! # sgbn-layers
//!
//! Layers of the thesis, in the style of candle-nn (plain structs, a `*Config`
//! with `Default`, builders taking a `VarBuilder`):
//!
//! - `GateModule`: the per-input gate network of Tables 4.1–4.4 that outputs one
//!   stochastic binary mask value per weight of a conv layer (eq. 4.1);
//! - `MaskedConv2d`: per-sample masked weights × shared weights, convolved per
//!   sample as one batched computation (eq. 4.2);
//! - `BinarizedDense` with any estimator of `sgbn-estimators`, stochastic
//!   activation pruning (eq. 2.23–2.25), DropConnect and random-mask conv,
//!   adaptive dropout, BNN layers (eq. 2.17–2.22), batch norm with running statistics.
//!
//! This crate is not built yet: it holds no API, only this description of what
//! will live here. See `docs/ARCHITECTURE.md` for where it sits in the
//! dependency graph.

#![deny(missing_docs)]
