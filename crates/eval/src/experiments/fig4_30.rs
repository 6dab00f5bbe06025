//! `fig4.30`: Stochastic toy gates' outputs against the input (GM_ST, GMWOW_ST) (Fig. 4.30, §4.6.5).

use super::toy_gates::ToyGates;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_30: ToyGates = ToyGates {
    info: ExperimentInfo {
        id: "fig4.30",
        title: "Stochastic toy gates' outputs against the input (GM_ST, GMWOW_ST)",
        reference: "Fig. 4.30, §4.6.5",
        models: &[],
        default_set: true,
    },
    models: [("toy-gm-st", "GM_ST"), ("toy-gmwow-st", "GMWOW_ST")],
};
