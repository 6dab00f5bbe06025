//! `figD.4`: the accuracy of SAP on FGSM examples crafted on SGBN, 1st-GM
//! and 2nd-GM (Fig. D.4, Appendix D).

use super::gate_transfer::GateTransfer;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGD_4: GateTransfer = GateTransfer {
    info: ExperimentInfo {
        id: "figD.4",
        title: "SAP on FGSM examples crafted on SGBN and its gate probes",
        reference: "Fig. D.4, Appendix D",
        models: &["sgbn", "1st-gm", "2nd-gm", "sap"],
        default_set: true,
    },
    target: "sap",
};
