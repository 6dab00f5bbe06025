//! `fig4.14`: the train − test accuracy gap of SGBN (ST), SGBN (DT) and
//! CNN-BIN, on clean images (Fig. 4.14, §4.6.1).

use super::generalization_gap::GeneralizationGap;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_14: GeneralizationGap = GeneralizationGap {
    info: ExperimentInfo {
        id: "fig4.14",
        title: "Train − test accuracy of SGBN (ST), SGBN (DT) and CNN-BIN",
        reference: "Fig. 4.14, §4.6.1",
        models: &["sgbn", "sgbn-dt", "cnn-bin"],
        default_set: true,
    },
    claim: Some((
        "the gap of SGBN (ST) is smaller than those of SGBN (DT) and CNN-BIN",
        |g| g[0] < g[1] && g[0] < g[2],
    )),
};
