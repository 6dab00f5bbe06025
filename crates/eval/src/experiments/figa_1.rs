//! `figA.1`: Confidence in the true class on FGSM examples: dropout (none, 0.1, 0.5, 0.9) (Fig. A.1, Appendix A.1).

use super::chapter3::{Ch3Net, Regularizer};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_1: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.1",
        title: "Confidence in the true class on FGSM examples: dropout (none, 0.1, 0.5, 0.9)",
        reference: "Fig. A.1, Appendix A.1",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Cnn(Regularizer::None),
        Ch3Net::Cnn(Regularizer::Dropout(0.1)),
        Ch3Net::Cnn(Regularizer::Dropout(0.5)),
        Ch3Net::Cnn(Regularizer::Dropout(0.9)),
    ],
    eps: ConfidenceEps::Profile,
};
