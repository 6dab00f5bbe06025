//! `table4.11-cifar10`: the CIFAR-10 rows of Table 4.11 (§4.7), "(add
//! params)" sizes of Table 4.13 included: FGSM at ε 0, 0.1, 0.2 and 0.3. On
//! the lossy JPEG stand-in the section says so and compares nothing with the
//! thesis.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE4_11_CIFAR10: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "table4.11-cifar10",
        title: "Table 4.11, CIFAR-10 rows: FGSM at ε 0, 0.1, 0.2, 0.3",
        reference: "Table 4.11, §4.7; Table 4.13",
        models: &[
            "cifar10-sgbn",
            "cifar10-bnn-pgd",
            "cifar10-bnn-pgd-add-params",
            "cifar10-sap",
            "cifar10-sap-add-params",
            "cifar10-cnn",
            "cifar10-cnn-add-params",
        ],
        default_set: false,
    },
    grid: Grid::Table,
};
