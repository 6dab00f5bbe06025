//! `figD.1`: FGSM examples (ε 0.3) crafted by the first gate module (1st-GM) (Fig. D.1, Appendix D).

use super::perturbation_images::PerturbationImages;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGD_1: PerturbationImages = PerturbationImages {
    info: ExperimentInfo {
        id: "figD.1",
        title: "FGSM examples (ε 0.3) crafted by the first gate module (1st-GM)",
        reference: "Fig. D.1, Appendix D",
        models: &["1st-gm"],
        default_set: true,
    },
    spread_claim: false,
};
