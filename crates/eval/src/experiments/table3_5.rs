//! `table3.5`: training and testing accuracy of the binarized 1CNNs
//! (Table 3.5, §3.2.4).

use super::binarized_table::BinarizedTable;
use super::chapter3::{ONE_CNN_NAMES, ONE_CNN_NETS};
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE3_5: BinarizedTable = BinarizedTable {
    info: ExperimentInfo {
        id: "table3.5",
        title: "Training and testing accuracies of the binarized 1CNNs",
        reference: "Table 3.5, §3.2.4",
        models: &ONE_CNN_NAMES,
        default_set: false,
    },
    table: "table3.5",
    nets: &ONE_CNN_NETS,
};
