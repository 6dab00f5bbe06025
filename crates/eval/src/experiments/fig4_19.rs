//! `fig4.19`: the accuracy of CNN on FGSM examples crafted on SGBN, 1st-GM
//! and 2nd-GM (Fig. 4.19, §4.6.2).

use super::gate_transfer::GateTransfer;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_19: GateTransfer = GateTransfer {
    info: ExperimentInfo {
        id: "fig4.19",
        title: "CNN on FGSM examples crafted on SGBN and its gate probes",
        reference: "Fig. 4.19, §4.6.2",
        models: &["sgbn", "1st-gm", "2nd-gm", "cnn"],
        default_set: true,
    },
    target: "cnn",
};
