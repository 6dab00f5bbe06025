//! `fig4.31`: Deterministic toy gates' outputs p1, p2 against the input (GM_DT, GMWOW_DT) (Fig. 4.31, §4.6.5).

use super::toy_gates::ToyGates;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_31: ToyGates = ToyGates {
    info: ExperimentInfo {
        id: "fig4.31",
        title: "Deterministic toy gates' outputs p1, p2 against the input (GM_DT, GMWOW_DT)",
        reference: "Fig. 4.31, §4.6.5",
        models: &[],
        default_set: true,
    },
    models: [("toy-gm-dt", "GM_DT"), ("toy-gmwow-dt", "GMWOW_DT")],
};
