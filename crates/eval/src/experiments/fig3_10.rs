//! `fig3.10`: the binarized 2CNN with DBN, STE and REINFORCE units: FGSM
//! accuracy against ε and the train − test gap (Fig. 3.10, §3.2.4).

use super::binarized_curve::CLAIMS;
use super::ch3_curve::Ch3Curve;
use super::chapter3::{TWO_CNN_NAMES, TWO_CNN_NETS};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_10: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.10",
        title: "Stochastic and deterministic binarized 2CNN: FGSM accuracy and overfitting",
        reference: "Fig. 3.10, §3.2.4",
        models: &TWO_CNN_NAMES,
        default_set: false,
    },
    nets: &TWO_CNN_NETS,
    claims: CLAIMS,
};
