//! `figD.5`: the accuracy of BNN with PGD on FGSM examples crafted on SGBN, 1st-GM
//! and 2nd-GM (Fig. D.5, Appendix D).

use super::gate_transfer::GateTransfer;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGD_5: GateTransfer = GateTransfer {
    info: ExperimentInfo {
        id: "figD.5",
        title: "BNN with PGD on FGSM examples crafted on SGBN and its gate probes",
        reference: "Fig. D.5, Appendix D",
        models: &["sgbn", "1st-gm", "2nd-gm", "bnn-pgd"],
        default_set: true,
    },
    target: "bnn-pgd",
};
