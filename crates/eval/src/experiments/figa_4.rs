//! `figA.4`: Confidence in the true class on FGSM examples: binarized MLPs (Fig. A.4, Appendix A.3.1).

use super::chapter3::{MLP_NAMES, MLP_NETS};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_4: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.4",
        title: "Confidence in the true class on FGSM examples: binarized MLPs",
        reference: "Fig. A.4, Appendix A.3.1",
        models: &MLP_NAMES,
        default_set: false,
    },
    nets: &MLP_NETS,
    eps: ConfidenceEps::Profile,
};
