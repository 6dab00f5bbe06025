//! `table3.6`: training and testing accuracy of the binarized 2CNNs
//! (Table 3.6, §3.2.4).

use super::binarized_table::BinarizedTable;
use super::chapter3::{TWO_CNN_NAMES, TWO_CNN_NETS};
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE3_6: BinarizedTable = BinarizedTable {
    info: ExperimentInfo {
        id: "table3.6",
        title: "Training and testing accuracies of the binarized 2CNNs",
        reference: "Table 3.6, §3.2.4",
        models: &TWO_CNN_NAMES,
        default_set: false,
    },
    table: "table3.6",
    nets: &TWO_CNN_NETS,
};
