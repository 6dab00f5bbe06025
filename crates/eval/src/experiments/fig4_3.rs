//! `fig4.3`: white-box FGSM accuracy against ε on MNIST (Fig. 4.3, §4.4),
//! beside the numbers of Table 4.11.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_3: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.3",
        title: "White-box FGSM on MNIST",
        reference: "Fig. 4.3, §4.4; numbers of Table 4.11",
        models: &["cnn", "cnn-bin", "sap", "bnn-pgd", "bnn", "sgbn"],
        default_set: true,
    },
    grid: Grid::Profile,
};
