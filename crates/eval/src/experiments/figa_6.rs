//! `figA.6`: Confidence in the true class on FGSM examples: binarized 2CNNs (Fig. A.6, Appendix A.3.3).

use super::chapter3::{TWO_CNN_NAMES, TWO_CNN_NETS};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_6: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.6",
        title: "Confidence in the true class on FGSM examples: binarized 2CNNs",
        reference: "Fig. A.6, Appendix A.3.3",
        models: &TWO_CNN_NAMES,
        default_set: false,
    },
    nets: &TWO_CNN_NETS,
    eps: ConfidenceEps::Profile,
};
