//! `fig4.15`: FGSM (ε = 0.3) examples crafted on SGBN with stochastic and
//! with deterministic gates, judged by the other models (Fig. 4.15, §4.6.1;
//! a figure, and two cells stated in the text, `data/thesis/transfer_stated.json`).

use super::transfer_matrix::TransferMatrix;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_15: TransferMatrix = TransferMatrix {
    info: ExperimentInfo {
        id: "fig4.15",
        title: "FGSM (ε = 0.3) examples of SGBN ST and DT on the other models",
        reference: "Fig. 4.15, §4.6.1 (a figure; the text states two cells)",
        models: &["sgbn", "sgbn-dt", "cnn", "cnn-bin", "sap"],
        default_set: true,
    },
    sources: &["sgbn", "sgbn-dt"],
    targets: &["sgbn", "sgbn-dt", "cnn", "cnn-bin", "sap"],
};
