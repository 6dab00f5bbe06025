//! `figA.3`: Confidence in the true class on FGSM examples: L2 (none, 1e-5, 1e-2, 1e-1) (Fig. A.3, Appendix A.2.2).

use super::chapter3::{Ch3Net, Regularizer};
use super::confidence_grid::{ConfidenceEps, ConfidenceGrid};
use crate::ExperimentInfo;

/// The experiment.
pub static FIGA_3: ConfidenceGrid = ConfidenceGrid {
    info: ExperimentInfo {
        id: "figA.3",
        title: "Confidence in the true class on FGSM examples: L2 (none, 1e-5, 1e-2, 1e-1)",
        reference: "Fig. A.3, Appendix A.2.2",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: &[
        Ch3Net::Cnn(Regularizer::None),
        Ch3Net::Cnn(Regularizer::L2(1e-5)),
        Ch3Net::Cnn(Regularizer::L2(1e-2)),
        Ch3Net::Cnn(Regularizer::L2(1e-1)),
    ],
    eps: ConfidenceEps::Profile,
};
