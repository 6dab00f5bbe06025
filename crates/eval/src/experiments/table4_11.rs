//! `table4.11`: the MNIST rows of Table 4.11 (§4.7): FGSM at ε 0, 0.1, 0.2
//! and 0.3 for the headline models.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE4_11: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "table4.11",
        title: "Table 4.11, MNIST rows: FGSM at ε 0, 0.1, 0.2, 0.3",
        reference: "Table 4.11, §4.7",
        models: &[
            "sgbn",
            "sgbn-dt",
            "bnn-pgd",
            "sap",
            "cnn-bin",
            "cnn",
            "random-mask",
            "dropconnect",
        ],
        default_set: true,
    },
    grid: Grid::Table,
};
