//! # sgbn-attacks
//!
//! Adversarial attacks behind one `Attack` trait (thesis §2.4): FGSM (eq. 2.26),
//! BIM (eq. 2.27), ILL (eq. 2.28), PGD with random start, expectation over
//! transformation (EOT) for stochastic models, the gradient-free Square attack,
//! and transfer (black-box) evaluation. All randomness comes from a
//! caller-owned seeded generator.
//!
//! This crate is not built yet: it holds no API, only this description of what
//! will live here. See `docs/ARCHITECTURE.md` for where it sits in the
//! dependency graph.

#![deny(missing_docs)]
