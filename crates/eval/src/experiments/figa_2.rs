//! `figA.2`: Confidence in the true class on FGSM examples: L1 (none, 1e-5, 1e-2, 1e-1) (Fig. A.2, Appendix A.2.1).

use super::chapter3::{Ch3Net, Regularizer};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_2: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.2",
        title: "Confidence in the true class on FGSM examples: L1 (none, 1e-5, 1e-2, 1e-1)",
        reference: "Fig. A.2, Appendix A.2.1",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Cnn(Regularizer::None),
        Ch3Net::Cnn(Regularizer::L1(1e-5)),
        Ch3Net::Cnn(Regularizer::L1(1e-2)),
        Ch3Net::Cnn(Regularizer::L1(1e-1)),
    ],
    eps: ConfidenceEps::Profile,
};
