//! `figB.1`: Histogram of σ(a) of SGBN's second gate (Fig. B.1, Appendix B).

use super::gate_histogram::GateHistogram;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGB_1: GateHistogram = GateHistogram {
    info: ExperimentInfo {
        id: "figB.1",
        title: "Histogram of σ(a) of SGBN's second gate",
        reference: "Fig. B.1, Appendix B",
        models: &["sgbn"],
        default_set: true,
    },
    gate: 1,
};
