//! `fig4.7`: Binary masks of SGBN's first gate for two test digits, per filter (Fig. 4.7, §4.5).

use super::gate_maps::{GateMap, GateMaps};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_7: GateMaps = GateMaps {
    info: ExperimentInfo {
        id: "fig4.7",
        title: "Binary masks of SGBN's first gate for two test digits, per filter",
        reference: "Fig. 4.7, §4.5",
        models: &["sgbn"],
        default_set: true,
    },
    map: GateMap::Masks,
};
