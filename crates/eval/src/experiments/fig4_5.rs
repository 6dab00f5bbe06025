//! `fig4.5`: white-box FGSM accuracy against ε on CIFAR-10 (Fig. 4.5, §4.4),
//! beside the CIFAR-10 rows of Table 4.11. On the lossy JPEG stand-in the
//! section says so and compares nothing with the thesis.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_5: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "fig4.5",
        title: "White-box FGSM on CIFAR-10",
        reference: "Fig. 4.5, §4.4; CIFAR-10 numbers of Table 4.11",
        // The thesis's figure shows CNN, SAP, BNN with PGD and SGBN;
        // CNN-BIN (N/A on CIFAR-10 in Table 4.11) is ours, for the ablation.
        models: &[
            "cifar10-cnn",
            "cifar10-cnn-bin",
            "cifar10-sap",
            "cifar10-bnn-pgd",
            "cifar10-sgbn",
        ],
        default_set: false,
    },
    grid: Grid::Profile,
};
