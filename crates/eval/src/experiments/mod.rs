//! The registry: every experiment, one file each, in report order. Finding
//! an id takes one step: `fig4.3` is in `fig4_3.rs`.
//!
//! Building blocks shared by several experiments: [`fgsm_curve`] (white-box
//! FGSM against ε beside Table 4.11) and [`transfer_matrix`] (black-box
//! FGSM transfer beside Table 4.8).

pub mod adaptive;
pub mod fgsm_curve;
pub mod fig4_13;
pub mod fig4_15;
pub mod fig4_3;
pub mod fig4_4;
pub mod fig4_6;
pub mod protocol;
pub mod table4_11;
pub mod table4_11_more;
pub mod transfer_matrix;

use crate::{EvalError, Experiment, Result};

/// Every experiment this build knows, in report order.
pub fn all() -> Vec<&'static dyn Experiment> {
    vec![
        &fig4_3::FIG4_3,
        &fig4_4::FIG4_4,
        &fig4_6::FIG4_6,
        &fig4_13::FIG4_13,
        &fig4_15::FIG4_15,
        &table4_11::TABLE4_11,
        &table4_11_more::TABLE4_11_MORE,
        &adaptive::ADAPTIVE,
        &protocol::PROTOCOL,
    ]
}

/// The experiment with this id.
pub fn find(id: &str) -> Result<&'static dyn Experiment> {
    all()
        .into_iter()
        .find(|e| e.id() == id)
        .ok_or_else(|| EvalError::UnknownExperiment {
            id: id.into(),
            known: all().iter().map(|e| e.id()).collect::<Vec<_>>().join(", "),
        })
}

/// The experiments named in `only` (in that order), or, when `only` is
/// empty, the default set (every experiment when `everything`).
pub fn select(only: &[String], everything: bool) -> Result<Vec<&'static dyn Experiment>> {
    if only.is_empty() {
        return Ok(all()
            .into_iter()
            .filter(|e| everything || e.in_default_set())
            .collect());
    }
    only.iter().map(|id| find(id)).collect()
}
