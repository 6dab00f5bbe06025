//! `table3.4`: training and testing accuracy of the binarized MLPs
//! (Table 3.4, §3.2.4).

use super::binarized_table::BinarizedTable;
use super::chapter3::{MLP_NAMES, MLP_NETS};
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE3_4: BinarizedTable = BinarizedTable {
    info: ExperimentInfo {
        id: "table3.4",
        title: "Training and testing accuracies of the binarized MLPs",
        reference: "Table 3.4, §3.2.4",
        models: &MLP_NAMES,
        default_set: false,
    },
    table: "table3.4",
    nets: &MLP_NETS,
};
