//! `fig3.9`: the binarized 1CNN with DBN, STE and REINFORCE units: FGSM
//! accuracy against ε and the train − test gap (Fig. 3.9, §3.2.4).

use super::binarized_curve::CLAIMS;
use super::ch3_curve::Ch3Curve;
use super::chapter3::{ONE_CNN_NAMES, ONE_CNN_NETS};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_9: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.9",
        title: "Stochastic and deterministic binarized 1CNN: FGSM accuracy and overfitting",
        reference: "Fig. 3.9, §3.2.4",
        models: &ONE_CNN_NAMES,
        default_set: false,
    },
    nets: &ONE_CNN_NETS,
    claims: CLAIMS,
};
