//! `table4.11-more`: the other MNIST rows of Table 4.11 (§4.6.3, §4.7):
//! 1W-SGBN, adaptive dropout and the "(add params)" baselines of Table 4.12.
//! Not in the default set of `smoke` / `quick`: the (add params) models are
//! up to 90 times larger than the CNN.

use super::fgsm_curve::{FgsmCurve, Grid};
use crate::ExperimentInfo;

/// The experiment.
pub static TABLE4_11_MORE: FgsmCurve = FgsmCurve {
    info: ExperimentInfo {
        id: "table4.11-more",
        title: "Table 4.11, the other MNIST rows: 1W-SGBN, adaptive dropout and the (add params) baselines",
        reference: "Table 4.11, §4.6.3, §4.7 (Tables 4.12 for the added parameters)",
        models: &[
            "1w-sgbn",
            "ad-st",
            "ad-dt",
            "cnn-add-params",
            "cnn-bin-add-params",
            "sap-add-params",
            "bnn-pgd-add-params",
            "random-mask-add-params",
        ],
        default_set: false,
    },
    grid: Grid::Table,
};
