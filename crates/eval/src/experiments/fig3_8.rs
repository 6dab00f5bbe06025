//! `fig3.8`: the binarized MLP with DBN, STE and REINFORCE units: FGSM
//! accuracy against ε and the train − test gap (Fig. 3.8, §3.2.4).

use super::binarized_curve::CLAIMS;
use super::ch3_curve::Ch3Curve;
use super::chapter3::Ch3Net;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_8: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.8",
        title: "Stochastic and deterministic binarized MLP: FGSM accuracy and overfitting",
        reference: "Fig. 3.8, §3.2.4",
        models: &["mlp-dbn", "mlp-ste", "mlp-reinforce"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Binarized("mlp-dbn"),
        Ch3Net::Binarized("mlp-ste"),
        Ch3Net::Binarized("mlp-reinforce"),
    ],
    claims: CLAIMS,
};
