//! The registry: every experiment, one file each, in report order. Finding
//! an id takes one step: `fig4.3` is in `fig4_3.rs`.
//!
//! Building blocks shared by several experiments: [`fgsm_curve`] (white-box
//! FGSM against ε beside Table 4.11), [`transfer_matrix`] (black-box FGSM
//! transfer beside Table 4.8), and for chapter 3 [`chapter3`] (the networks
//! and their training), [`ch3_curve`] (FGSM against ε, train − test gap,
//! the thesis's claims), [`binarized_curve`] (the claims of Figs.
//! 3.8–3.10), [`confidence_grid`] (confidence histograms),
//! [`binarized_table`] (Tables 3.4–3.6) and [`fgsm_images`] (Figs. 3.12,
//! 3.13); for the gates [`gate_histogram`] (Fig. 4.9, B.1) and
//! [`gate_maps`] (Figs. 4.7, 4.8); [`generalization_gap`] (Figs. 4.14,
//! C.1); [`gradient_histograms`] (Figs. 4.16, 4.20);
//! [`perturbation_images`] (Figs. 4.10, D.1, D.2); [`gate_transfer`]
//! (Figs. 4.19, D.3–D.5); [`toy`] and [`toy_gates`] (the toy experiment,
//! Figs. 4.25–4.31).
//!
//! Groups: `ch3` names every chapter-3 and Appendix-A experiment.

pub mod adaptive;
pub mod baselines;
pub mod binarized_curve;
pub mod binarized_table;
pub mod ch3_curve;
pub mod chapter3;
pub mod confidence_grid;
pub mod fgsm_curve;
pub mod fgsm_images;
pub mod fig3_10;
pub mod fig3_11;
pub mod fig3_12;
pub mod fig3_13;
pub mod fig3_2;
pub mod fig3_3;
pub mod fig3_4;
pub mod fig3_5;
pub mod fig3_6;
pub mod fig3_7;
pub mod fig3_8;
pub mod fig3_9;
pub mod fig4_10;
pub mod fig4_11;
pub mod fig4_12;
pub mod fig4_13;
pub mod fig4_14;
pub mod fig4_15;
pub mod fig4_16;
pub mod fig4_17;
pub mod fig4_18;
pub mod fig4_19;
pub mod fig4_20;
pub mod fig4_21;
pub mod fig4_22;
pub mod fig4_23;
pub mod fig4_25;
pub mod fig4_27;
pub mod fig4_28;
pub mod fig4_29;
pub mod fig4_3;
pub mod fig4_30;
pub mod fig4_31;
pub mod fig4_4;
pub mod fig4_5;
pub mod fig4_6;
pub mod fig4_7;
pub mod fig4_8;
pub mod fig4_9;
pub mod figa_1;
pub mod figa_2;
pub mod figa_3;
pub mod figa_4;
pub mod figa_5;
pub mod figa_6;
pub mod figb_1;
pub mod figc_1;
pub mod figd_1;
pub mod figd_2;
pub mod figd_3;
pub mod figd_4;
pub mod figd_5;
pub mod gate_histogram;
pub mod gate_maps;
pub mod gate_transfer;
pub mod generalization_gap;
pub mod gradient_histograms;
pub mod perturbation_images;
pub mod protocol;
pub mod table3_4;
pub mod table3_5;
pub mod table3_6;
pub mod table4_11;
pub mod table4_11_cifar10;
pub mod table4_11_more;
pub mod table4_8;
pub mod toy;
pub mod toy_gates;
pub mod transfer_matrix;

use crate::{EvalError, Experiment, Result};

/// Every experiment this build knows, in report order.
pub fn all() -> Vec<&'static dyn Experiment> {
    vec![
        &fig3_2::FIG3_2,
        &fig3_3::FIG3_3,
        &fig3_4::FIG3_4,
        &fig3_5::FIG3_5,
        &fig3_6::FIG3_6,
        &fig3_7::FIG3_7,
        &fig3_8::FIG3_8,
        &fig3_9::FIG3_9,
        &fig3_10::FIG3_10,
        &fig3_11::FIG3_11,
        &fig3_12::FIG3_12,
        &fig3_13::FIG3_13,
        &table3_4::TABLE3_4,
        &table3_5::TABLE3_5,
        &table3_6::TABLE3_6,
        &figa_1::FIGA_1,
        &figa_2::FIGA_2,
        &figa_3::FIGA_3,
        &figa_4::FIGA_4,
        &figa_5::FIGA_5,
        &figa_6::FIGA_6,
        &fig4_3::FIG4_3,
        &fig4_4::FIG4_4,
        &fig4_5::FIG4_5,
        &fig4_6::FIG4_6,
        &fig4_7::FIG4_7,
        &fig4_8::FIG4_8,
        &fig4_9::FIG4_9,
        &fig4_10::FIG4_10,
        &fig4_11::FIG4_11,
        &fig4_12::FIG4_12,
        &fig4_13::FIG4_13,
        &fig4_14::FIG4_14,
        &fig4_15::FIG4_15,
        &fig4_16::FIG4_16,
        &fig4_17::FIG4_17,
        &fig4_18::FIG4_18,
        &fig4_19::FIG4_19,
        &fig4_20::FIG4_20,
        &fig4_21::FIG4_21,
        &fig4_22::FIG4_22,
        &fig4_23::FIG4_23,
        &fig4_25::FIG4_25,
        &fig4_27::FIG4_27,
        &fig4_28::FIG4_28,
        &fig4_29::FIG4_29,
        &fig4_30::FIG4_30,
        &fig4_31::FIG4_31,
        &table4_8::TABLE4_8,
        &table4_11::TABLE4_11,
        &table4_11_more::TABLE4_11_MORE,
        &table4_11_cifar10::TABLE4_11_CIFAR10,
        &figb_1::FIGB_1,
        &figc_1::FIGC_1,
        &figd_1::FIGD_1,
        &figd_2::FIGD_2,
        &figd_3::FIGD_3,
        &figd_4::FIGD_4,
        &figd_5::FIGD_5,
        &adaptive::ADAPTIVE,
        &adaptive::ADAPTIVE_CIFAR10,
        &protocol::PROTOCOL,
        &baselines::BASELINES,
    ]
}

/// The experiment with this id.
pub fn find(id: &str) -> Result<&'static dyn Experiment> {
    all()
        .into_iter()
        .find(|e| e.id() == id)
        .ok_or_else(|| EvalError::UnknownExperiment {
            id: id.into(),
            known: format!(
                "{}; groups: {}",
                all().iter().map(|e| e.id()).collect::<Vec<_>>().join(", "),
                GROUPS.map(|(g, _)| g).join(", ")
            ),
        })
}

/// The groups `--only` accepts besides ids, and which ids each names.
pub const GROUPS: [(&str, &str); 1] = [(
    "ch3",
    "every chapter-3 and Appendix-A experiment (fig3.*, table3.*, figA.*)",
)];

/// Whether experiment `id` belongs to group `group`.
pub fn in_group(group: &str, id: &str) -> bool {
    match group {
        "ch3" => ["fig3.", "table3.", "figA."]
            .iter()
            .any(|p| id.starts_with(p)),
        _ => false,
    }
}

/// The experiments named in `only` (ids or [`GROUPS`], in that order, each
/// once), or, when `only` is empty, the default set (every experiment when
/// `everything`).
pub fn select(only: &[String], everything: bool) -> Result<Vec<&'static dyn Experiment>> {
    if only.is_empty() {
        return Ok(all()
            .into_iter()
            .filter(|e| everything || e.in_default_set())
            .collect());
    }
    let mut out: Vec<&'static dyn Experiment> = Vec::new();
    for name in only {
        let picked: Vec<_> = if GROUPS.iter().any(|(g, _)| g == name) {
            all()
                .into_iter()
                .filter(|e| in_group(name, e.id()))
                .collect()
        } else {
            vec![find(name)?]
        };
        for e in picked {
            if !out.iter().any(|o| o.id() == e.id()) {
                out.push(e);
            }
        }
    }
    Ok(out)
}
