//! `fig3.3`: Confidence in the true class on FGSM examples: dropout p = 0.1 and 0.9 (Fig. 3.3, §3.2.2).

use super::chapter3::{Ch3Net, Regularizer};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIG3_3: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "fig3.3",
        title: "Confidence in the true class on FGSM examples: dropout p = 0.1 and 0.9",
        reference: "Fig. 3.3, §3.2.2",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Cnn(Regularizer::Dropout(0.1)),
        Ch3Net::Cnn(Regularizer::Dropout(0.9)),
    ],
    eps: ConfidenceEps::Caption(&[0.01, 0.13, 0.25]),
};
