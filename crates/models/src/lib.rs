//! # sgbn-models
//!
//! Models of the thesis behind one `Classifier` trait and a serializable
//! `ModelSpec`: CNN, CNN-BIN, SGBN (ST/DT) and its variants, SAP, BNN,
//! DropConnect, random mask, adaptive dropout, gate probes, the chapter-3
//! networks and the toy models of §4.6.5; safetensors checkpoints that carry
//! their spec.
//!
//! This crate is not built yet: it holds no API, only this description of what
//! will live here. See `docs/ARCHITECTURE.md` for where it sits in the
//! dependency graph.

#![deny(missing_docs)]
