//! `figC.1`: the train − test accuracy gap of SGBN and of SGBN with a ReLU
//! dense layer, on clean images (Fig. C.1, Appendix C).

use super::generalization_gap::GeneralizationGap;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGC_1: GeneralizationGap = GeneralizationGap {
    info: ExperimentInfo {
        id: "figC.1",
        title: "Train − test accuracy of SGBN and SGBN with a ReLU dense layer",
        reference: "Fig. C.1, Appendix C",
        models: &["sgbn", "sgbn-relu"],
        default_set: true,
    },
    claim: None,
};
