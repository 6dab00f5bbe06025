//! `fig3.6`: Confidence in the true class on FGSM examples: L1 λ = 1e-5 and 1e-1 (Fig. 3.6, §3.2.3).

use super::chapter3::{Ch3Net, Regularizer};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_6: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "fig3.6",
        title: "Confidence in the true class on FGSM examples: L1 λ = 1e-5 and 1e-1",
        reference: "Fig. 3.6, §3.2.3",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Cnn(Regularizer::L1(1e-5)),
        Ch3Net::Cnn(Regularizer::L1(1e-1)),
    ],
    eps: ConfidenceEps::Caption(&[0.01, 0.13, 0.25]),
};
