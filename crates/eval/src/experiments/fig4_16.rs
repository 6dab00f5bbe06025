//! `fig4.16`: input-gradient histograms of SGBN (ST), SGBN (DT) and
//! CNN-BIN (Fig. 4.16, §4.6.1).

use super::gradient_histograms::GradientHistograms;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_16: GradientHistograms = GradientHistograms {
    info: ExperimentInfo {
        id: "fig4.16",
        title: "Input-gradient histograms of SGBN (ST), SGBN (DT) and CNN-BIN",
        reference: "Fig. 4.16, §4.6.1",
        models: &["sgbn", "sgbn-dt", "cnn-bin"],
        default_set: true,
    },
    claim: (
        "the gradient variance of SGBN (ST) is larger than those of SGBN (DT) and CNN-BIN",
        |s| s[0] > s[1] && s[0] > s[2],
    ),
};
