//! `fig3.4`: the 1-conv CNN with L1 weight decay λ ∈ {0, 1e-5, …, 1e-1}:
//! FGSM accuracy against ε (Fig. 3.4, §3.2.3).

use super::ch3_curve::{Ch3Curve, Claim, CurveMeans, extreme};
use super::chapter3::{Ch3Net, Regularizer};
use crate::ExperimentInfo;

const NETS: &[Ch3Net] = &[
    Ch3Net::Cnn(Regularizer::None),
    Ch3Net::Cnn(Regularizer::L1(1e-5)),
    Ch3Net::Cnn(Regularizer::L1(1e-4)),
    Ch3Net::Cnn(Regularizer::L1(1e-3)),
    Ch3Net::Cnn(Regularizer::L1(1e-2)),
    Ch3Net::Cnn(Regularizer::L1(1e-1)),
];

fn strong_helps(c: &CurveMeans) -> Option<(bool, String)> {
    let strong = c.at(4, 0.1)?.max(c.at(5, 0.1)?);
    let none = c.at(0, 0.1)?;
    Some((
        strong > none,
        format!("at ε 0.1: best of λ ≥ 1e-2 {strong:.1} %, w/o {none:.1} %"),
    ))
}

fn underfit_but_better(c: &CurveMeans) -> Option<(bool, String)> {
    let (lowest, clean) = extreme(c, 0.0, false)?;
    let (strong, none) = (c.at(5, 0.1)?, c.at(0, 0.1)?);
    Some((
        lowest == 5 && strong > none,
        format!(
            "clean: lowest is {} ({clean:.1} %); at ε 0.1: λ = 1e-1 {strong:.1} %, w/o {none:.1} %",
            NETS[lowest].label()
        ),
    ))
}

/// The experiment.
pub static FIG3_4: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.4",
        title: "L1 weight decay on the 1-conv CNN: FGSM accuracy",
        reference: "Fig. 3.4, §3.2.3",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: NETS,
    claims: &[
        Claim {
            text: "strong L1 weight decay helps against FGSM (§3.2.3; best of λ ≥ 1e-2 above w/o at ε 0.1)",
            check: strong_helps,
        },
        Claim {
            text: "the strongest λ underfits the clean data but is better than the overfitted network on FGSM examples (§3.2.3; lowest clean accuracy, above w/o at ε 0.1)",
            check: underfit_but_better,
        },
    ],
};
