//! `fig4.10`: Clean digit, FGSM perturbation (ε 0.3) and perturbed digit per model (Fig. 4.10, §4.5).

use super::perturbation_images::PerturbationImages;
use crate::ExperimentInfo;

/// The experiment.
pub static FIG4_10: PerturbationImages = PerturbationImages {
    info: ExperimentInfo {
        id: "fig4.10",
        title: "Clean digit, FGSM perturbation (ε 0.3) and perturbed digit per model",
        reference: "Fig. 4.10, §4.5",
        models: &["sgbn", "bnn-pgd", "sap", "cnn-bin", "cnn"],
        default_set: true,
    },
    spread_claim: true,
};
