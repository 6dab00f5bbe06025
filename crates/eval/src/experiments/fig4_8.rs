//! `fig4.8`: Probabilities σ(a) of SGBN's first gate before binarization, per filter (Fig. 4.8, §4.5).

use super::gate_maps::{GateMap, GateMaps};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_8: GateMaps = GateMaps {
    info: ExperimentInfo {
        id: "fig4.8",
        title: "Probabilities σ(a) of SGBN's first gate before binarization, per filter",
        reference: "Fig. 4.8, §4.5",
        models: &["sgbn"],
        default_set: true,
    },
    map: GateMap::Probabilities,
};
