//! # sgbn-metrics
//!
//! Metrics of chapters 3–4: clean and adversarial accuracy (mean ± std over
//! runs), train−test gap, true-class confidence histograms (Fig. 3.3), ℓ1 and ℓ∞
//! distortion (eq. 2.31), input-gradient statistics (Fig. 4.16), gate
//! statistics (Fig. 4.9) and gradient-masking sanity flags.
//!
//! This crate is not built yet: it holds no API, only this description of what
//! will live here. See `docs/ARCHITECTURE.md` for where it sits in the
//! dependency graph.

#![deny(missing_docs)]
