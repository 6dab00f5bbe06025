//! `fig3.8`: the binarized MLP with DBN, STE and REINFORCE units: FGSM
//! accuracy against ε and the train − test gap (Fig. 3.8, §3.2.4).

use super::binarized_curve::CLAIMS;
use super::ch3_curve::Ch3Curve;
use super::chapter3::{MLP_NAMES, MLP_NETS};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_8: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.8",
        title: "Stochastic and deterministic binarized MLP: FGSM accuracy and overfitting",
        reference: "Fig. 3.8, §3.2.4",
        models: &MLP_NAMES,
        default_set: false,
    },
    nets: &MLP_NETS,
    claims: CLAIMS,
};
