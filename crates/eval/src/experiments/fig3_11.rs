//! `fig3.11`: Confidence in the true class on FGSM examples: binarized 1CNNs (Fig. 3.11, §3.2.4).

use super::chapter3::Ch3Net;
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_11: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "fig3.11",
        title: "Confidence in the true class on FGSM examples: binarized 1CNNs",
        reference: "Fig. 3.11, §3.2.4",
        models: &["1cnn-dbn", "1cnn-ste", "1cnn-reinforce"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Binarized("1cnn-dbn"),
        Ch3Net::Binarized("1cnn-ste"),
        Ch3Net::Binarized("1cnn-reinforce"),
    ],
    eps: ConfidenceEps::Caption(&[0.01, 0.13, 0.25]),
};
