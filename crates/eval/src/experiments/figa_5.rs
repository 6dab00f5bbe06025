//! `figA.5`: Confidence in the true class on FGSM examples: binarized 1CNNs (Fig. A.5, Appendix A.3.2).

use super::chapter3::Ch3Net;
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_5: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.5",
        title: "Confidence in the true class on FGSM examples: binarized 1CNNs",
        reference: "Fig. A.5, Appendix A.3.2",
        models: &["1cnn-dbn", "1cnn-ste", "1cnn-reinforce"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Binarized("1cnn-dbn"),
        Ch3Net::Binarized("1cnn-ste"),
        Ch3Net::Binarized("1cnn-reinforce"),
    ],
    eps: ConfidenceEps::Profile,
};
