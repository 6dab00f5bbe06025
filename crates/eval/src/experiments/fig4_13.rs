//! `fig4.13`: SGBN with stochastic (ST) against deterministic (DT) gates,
//! white-box FGSM (Fig. 4.13, §4.6.1), beside Table 4.11.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_13: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.13",
        title: "SGBN with stochastic (ST) vs deterministic (DT) gates, white-box FGSM",
        reference: "Fig. 4.13, §4.6.1; numbers of Table 4.11",
        models: &["sgbn", "sgbn-dt"],
        default_set: true,
    },
    grid: Grid::Profile,
};
