//! `fig3.5`: the 1-conv CNN with L2 weight decay λ ∈ {0, 1e-5, …, 1e-1}:
//! FGSM accuracy against ε (Fig. 3.5, §3.2.3).

use super::ch3_curve::{Ch3Curve, Claim, CurveMeans};
use super::chapter3::{Ch3Net, Regularizer};
use crate::ExperimentInfo;

const NETS: &[Ch3Net] = &[
    Ch3Net::Cnn(Regularizer::None),
    Ch3Net::Cnn(Regularizer::L2(1e-5)),
    Ch3Net::Cnn(Regularizer::L2(1e-4)),
    Ch3Net::Cnn(Regularizer::L2(1e-3)),
    Ch3Net::Cnn(Regularizer::L2(1e-2)),
    Ch3Net::Cnn(Regularizer::L2(1e-1)),
];

/// λ ≥ 1e-2 above every λ < 1e-2 (including none) at `eps`.
fn strong_above_weak(c: &CurveMeans, eps: f64) -> Option<(bool, String)> {
    let weak = (0..4)
        .map(|k| c.at(k, eps))
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .fold(f64::NEG_INFINITY, f64::max);
    let strong = c.at(4, eps)?.min(c.at(5, eps)?);
    Some((
        strong > weak,
        format!("at ε {eps}: worst of λ ≥ 1e-2 {strong:.1} %, best of λ < 1e-2 {weak:.1} %"),
    ))
}

/// The experiment.
pub static FIG3_5: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.5",
        title: "L2 weight decay on the 1-conv CNN: FGSM accuracy",
        reference: "Fig. 3.5, §3.2.3",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: NETS,
    claims: &[
        Claim {
            text: "networks with λ ≥ 1e-2 are more accurate than those with λ < 1e-2 at medium perturbation levels (§3.2.3; checked at ε 0.1)",
            check: |c| strong_above_weak(c, 0.1),
        },
        Claim {
            text: "… and at higher ones (§3.2.3; checked at ε 0.25)",
            check: |c| strong_above_weak(c, 0.25),
        },
    ],
};
