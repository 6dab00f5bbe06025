//! `figA.4`: Confidence in the true class on FGSM examples: binarized MLPs (Fig. A.4, Appendix A.3.1).

use super::chapter3::Ch3Net;
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_4: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.4",
        title: "Confidence in the true class on FGSM examples: binarized MLPs",
        reference: "Fig. A.4, Appendix A.3.1",
        models: &["mlp-dbn", "mlp-ste", "mlp-reinforce"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Binarized("mlp-dbn"),
        Ch3Net::Binarized("mlp-ste"),
        Ch3Net::Binarized("mlp-reinforce"),
    ],
    eps: ConfidenceEps::Profile,
};
