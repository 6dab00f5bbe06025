//! `fig4.23`: 2W and 1W SGBN and their gate probes, white-box FGSM (Fig. 4.23, §4.6.3).

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_23: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.23",
        title: "2W and 1W SGBN and their gate probes, white-box FGSM",
        reference: "Fig. 4.23, §4.6.3",
        models: &[
            "sgbn",
            "1w-sgbn",
            "2nd-gm",
            "1w-2nd-gm",
            "1st-gm",
            "1w-1st-gm",
        ],
        default_set: true,
    },
    grid: Grid::Profile,
};
