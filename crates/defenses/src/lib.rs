//! # sgbn-defenses
//!
//! Training recipes: Adam, early stopping on a validation split, per-epoch
//! slope annealing, L1/L2 penalties, the REINFORCE loss signal and PGD
//! adversarial training with the loss mix τ (eq. 2.29); atomic per-epoch
//! checkpoints and resume.
//!
//! This crate is not built yet: it holds no API, only this description of what
//! will live here. See `docs/ARCHITECTURE.md` for where it sits in the
//! dependency graph.

#![deny(missing_docs)]
