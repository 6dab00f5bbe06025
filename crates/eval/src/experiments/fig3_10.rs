//! `fig3.10`: the binarized 2CNN with DBN, STE and REINFORCE units: FGSM
//! accuracy against ε and the train − test gap (Fig. 3.10, §3.2.4).

use super::binarized_curve::CLAIMS;
use super::ch3_curve::Ch3Curve;
use super::chapter3::Ch3Net;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_10: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.10",
        title: "Stochastic and deterministic binarized 2CNN: FGSM accuracy and overfitting",
        reference: "Fig. 3.10, §3.2.4",
        models: &["2cnn-dbn", "2cnn-ste", "2cnn-reinforce"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Binarized("2cnn-dbn"),
        Ch3Net::Binarized("2cnn-ste"),
        Ch3Net::Binarized("2cnn-reinforce"),
    ],
    claims: CLAIMS,
};
