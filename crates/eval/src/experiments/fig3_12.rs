//! `fig3.12`: FGSM perturbations at ε 0.3 of the CNN without regularization
//! and with L1 λ = 1e-2 (Fig. 3.12, §3.3).

use super::fgsm_images::FgsmImages;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_12: FgsmImages = FgsmImages {
    info: ExperimentInfo {
        id: "fig3.12",
        title: "FGSM perturbations (ε 0.3): CNN without regularization and with L1",
        reference: "Fig. 3.12, §3.3",
        models: &["ch3-cnn"],
        default_set: false,
    },
    eps: 0.3,
};
