//! `figA.5`: Confidence in the true class on FGSM examples: binarized 1CNNs (Fig. A.5, Appendix A.3.2).

use super::chapter3::{ONE_CNN_NAMES, ONE_CNN_NETS};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_5: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.5",
        title: "Confidence in the true class on FGSM examples: binarized 1CNNs",
        reference: "Fig. A.5, Appendix A.3.2",
        models: &ONE_CNN_NAMES,
        default_set: false,
    },
    nets: &ONE_CNN_NETS,
    eps: ConfidenceEps::Profile,
};
