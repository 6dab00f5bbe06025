//! `figD.2`: FGSM examples (ε 0.3) crafted by the second gate module (2nd-GM) (Fig. D.2, Appendix D).

use super::perturbation_images::PerturbationImages;
use crate::ExperimentInfo;

/// The experiment.
pub static FIGD_2: PerturbationImages = PerturbationImages {
    info: ExperimentInfo {
        id: "figD.2",
        title: "FGSM examples (ε 0.3) crafted by the second gate module (2nd-GM)",
        reference: "Fig. D.2, Appendix D",
        models: &["2nd-gm"],
        default_set: true,
    },
    spread_claim: false,
};
