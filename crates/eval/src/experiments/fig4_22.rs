//! `fig4.22`: SGBN (2W) vs SGBN with shared weights (1W-SGBN), white-box FGSM (Fig. 4.22, §4.6.3).

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_22: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.22",
        title: "SGBN (2W) vs SGBN with shared weights (1W-SGBN), white-box FGSM",
        reference: "Fig. 4.22, §4.6.3",
        models: &["sgbn", "1w-sgbn"],
        default_set: true,
    },
    grid: Grid::Profile,
};
