//! `fig4.9`: Histogram of σ(a) of SGBN's first gate and the share of weights switched on (Fig. 4.9, §4.5).

use super::gate_histogram::GateHistogram;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_9: GateHistogram = GateHistogram {
    info: ExperimentInfo {
        id: "fig4.9",
        title: "Histogram of σ(a) of SGBN's first gate and the share of weights switched on",
        reference: "Fig. 4.9, §4.5",
        models: &["sgbn"],
        default_set: true,
    },
    gate: 0,
};
