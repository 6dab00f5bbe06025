//! `fig4.20`: input-gradient histograms of SGBN and its gate probes
//! 1st-GM and 2nd-GM (Fig. 4.20, §4.6.2).

use super::gradient_histograms::GradientHistograms;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_20: GradientHistograms = GradientHistograms {
    info: ExperimentInfo {
        id: "fig4.20",
        title: "Input-gradient histograms of SGBN, 1st-GM and 2nd-GM",
        reference: "Fig. 4.20, §4.6.2",
        models: &["sgbn", "1st-gm", "2nd-gm"],
        default_set: true,
    },
    claim: (
        "the gradient variances of SGBN and 2nd-GM are similar and larger than that of 1st-GM (checked: both larger)",
        |s| s[0] > s[1] && s[2] > s[1],
    ),
};
