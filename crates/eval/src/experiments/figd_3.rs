//! `figD.3`: the accuracy of CNN-BIN on FGSM examples crafted on SGBN, 1st-GM
//! and 2nd-GM (Fig. D.3, Appendix D).

use super::gate_transfer::GateTransfer;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGD_3: GateTransfer = GateTransfer {
    info: ExperimentInfo {
        id: "figD.3",
        title: "CNN-BIN on FGSM examples crafted on SGBN and its gate probes",
        reference: "Fig. D.3, Appendix D",
        models: &["sgbn", "1st-gm", "2nd-gm", "cnn-bin"],
        default_set: true,
    },
    target: "cnn-bin",
};
