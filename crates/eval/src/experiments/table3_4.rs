//! `table3.4`: training and testing accuracy of the binarized MLPs
//! (Table 3.4, §3.2.4).

use super::binarized_table::BinarizedTable;
use super::chapter3::Ch3Net;
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE3_4: BinarizedTable = BinarizedTable {
    info: ExperimentInfo {
        id: "table3.4",
        title: "Training and testing accuracies of the binarized MLPs",
        reference: "Table 3.4, §3.2.4",
        models: &["mlp-dbn", "mlp-ste", "mlp-reinforce"],
        default_set: false,
    },
    table: "table3.4",
    nets: &[
        Ch3Net::Binarized("mlp-dbn"),
        Ch3Net::Binarized("mlp-ste"),
        Ch3Net::Binarized("mlp-reinforce"),
    ],
};
