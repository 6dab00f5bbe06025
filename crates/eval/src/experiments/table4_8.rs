//! `table4.8`: the whole of Table 4.8 (§4.6.4): black-box FGSM (ε = 0.3)
//! examples of SGBN, SAP, BNN with PGD, CNN-BIN and CNN judged by CNN-BIN,
//! SGBN with ±1 gates, DropConnect (40 % / 50 %), random masking
//! (0.6 / 0.5), SGBN with its gate masks shuffled among the batch
//! (Fig. 4.24) and SGBN, every cell beside the thesis's.

use super::transfer_matrix::TransferMatrix;
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE4_8: TransferMatrix = TransferMatrix {
    info: ExperimentInfo {
        id: "table4.8",
        title: "Black-box FGSM (ε = 0.3) on masking and gated targets",
        reference: "Table 4.8, Fig. 4.24, §4.6.4",
        models: &[
            "sgbn",
            "sap",
            "bnn-pgd",
            "cnn-bin",
            "cnn",
            "sgbn-pm1",
            "dropconnect",
            "random-mask",
        ],
        default_set: true,
    },
    sources: &["sgbn", "sap", "bnn-pgd", "cnn-bin", "cnn"],
    targets: &[
        "cnn-bin",
        "sgbn-pm1",
        "dropconnect",
        "random-mask",
        "sgbn-shuffled",
        "sgbn",
    ],
};
