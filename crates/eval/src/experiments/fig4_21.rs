//! `fig4.21`: white-box FGSM accuracy of SGBN with the stochastic binary
//! dense unit against SGBN with a ReLU dense layer (Fig. 4.21, §4.6.2),
//! beside Table 4.11 and the 91.1 ± 1.1 % the text states for the latter.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_21: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.21",
        title: "SGBN vs SGBN with a ReLU dense layer, white-box FGSM",
        reference: "Fig. 4.21, §4.6.2",
        models: &["sgbn", "sgbn-relu"],
        default_set: true,
    },
    grid: Grid::Profile,
};
