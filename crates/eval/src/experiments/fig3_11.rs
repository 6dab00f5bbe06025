//! `fig3.11`: Confidence in the true class on FGSM examples: binarized 1CNNs (Fig. 3.11, §3.2.4).

use super::chapter3::{ONE_CNN_NAMES, ONE_CNN_NETS};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_11: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "fig3.11",
        title: "Confidence in the true class on FGSM examples: binarized 1CNNs",
        reference: "Fig. 3.11, §3.2.4",
        models: &ONE_CNN_NAMES,
        default_set: false,
    },
    nets: &ONE_CNN_NETS,
    eps: ConfidenceEps::Caption(&[0.01, 0.13, 0.25]),
};
