//! `fig3.13`: FGSM examples at ε 0.9 of the CNN without regularization and
//! with L1 λ = 1e-2 (Fig. 3.13, §3.3).

use super::fgsm_images::FgsmImages;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_13: FgsmImages = FgsmImages {
    info: ExperimentInfo {
        id: "fig3.13",
        title: "FGSM examples (ε 0.9): CNN without regularization and with L1",
        reference: "Fig. 3.13, §3.3",
        models: &["ch3-cnn"],
        default_set: false,
    },
    eps: 0.9,
};
