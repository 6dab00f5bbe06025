//! `fig4.6`: the black-box FGSM (ε = 0.3) transfer matrix of the headline
//! models (Fig. 4.6, §4.4), beside the SGBN and CNN-BIN rows of Table 4.8.

use super::transfer_matrix::TransferMatrix;
use crate::ExperimentInfo;

const MODELS: &[&str] = &["sgbn", "sap", "bnn-pgd", "cnn-bin", "cnn"];

/// The experiment.
pub static FIG4_6: TransferMatrix = TransferMatrix {
    info: ExperimentInfo {
        id: "fig4.6",
        title: "Black-box FGSM (ε = 0.3) transfer matrix",
        reference: "Fig. 4.6, §4.4; the SGBN and CNN-BIN rows of Table 4.8",
        models: MODELS,
        default_set: true,
    },
    sources: MODELS,
    targets: MODELS,
};
