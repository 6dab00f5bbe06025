//! `fig4.18`: SGBN, 1-layer-SGBN and the gate probes 1st-GM and 2nd-GM, white-box FGSM (Fig. 4.18, §4.6.2).

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_18: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.18",
        title: "SGBN, 1-layer-SGBN and the gate probes 1st-GM and 2nd-GM, white-box FGSM",
        reference: "Fig. 4.18, §4.6.2",
        models: &["sgbn", "1-layer-sgbn", "1st-gm", "2nd-gm"],
        default_set: true,
    },
    grid: Grid::Profile,
};
