//! `figA.6`: Confidence in the true class on FGSM examples: binarized 2CNNs (Fig. A.6, Appendix A.3.3).

use super::chapter3::Ch3Net;
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_6: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.6",
        title: "Confidence in the true class on FGSM examples: binarized 2CNNs",
        reference: "Fig. A.6, Appendix A.3.3",
        models: &["2cnn-dbn", "2cnn-ste", "2cnn-reinforce"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Binarized("2cnn-dbn"),
        Ch3Net::Binarized("2cnn-ste"),
        Ch3Net::Binarized("2cnn-reinforce"),
    ],
    eps: ConfidenceEps::Profile,
};
