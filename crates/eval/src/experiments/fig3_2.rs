//! `fig3.2`: the 1-conv CNN with dropout p ∈ {0, 0.1, 0.3, 0.5, 0.7, 0.9}:
//! FGSM accuracy against ε, and training / test accuracy (Fig. 3.2,
//! §3.2.2).

use super::ch3_curve::{Ch3Curve, Claim, CurveMeans, extreme};
use super::chapter3::{Ch3Net, Regularizer};
use crate::ExperimentInfo;

const NETS: &[Ch3Net] = &[
    Ch3Net::Cnn(Regularizer::None),
    Ch3Net::Cnn(Regularizer::Dropout(0.1)),
    Ch3Net::Cnn(Regularizer::Dropout(0.3)),
    Ch3Net::Cnn(Regularizer::Dropout(0.5)),
    Ch3Net::Cnn(Regularizer::Dropout(0.7)),
    Ch3Net::Cnn(Regularizer::Dropout(0.9)),
];

fn least_without_dropout(c: &CurveMeans) -> Option<(bool, String)> {
    let (k, v) = extreme(c, 0.1, false)?;
    Some((
        k == 0,
        format!("at ε 0.1 the lowest is {} ({v:.1} %)", NETS[k].label()),
    ))
}

fn most_at_p09(c: &CurveMeans) -> Option<(bool, String)> {
    let (k, v) = extreme(c, 0.1, true)?;
    Some((
        k == NETS.len() - 1,
        format!("at ε 0.1 the highest is {} ({v:.1} %)", NETS[k].label()),
    ))
}

fn forty_points(c: &CurveMeans) -> Option<(bool, String)> {
    let d = c.at(NETS.len() - 1, 0.1)? - c.at(0, 0.1)?;
    Some((
        (30.0..=50.0).contains(&d),
        format!("ours: {d:+.1} points (we read \"around 40\" as 30 to 50)"),
    ))
}

/// The experiment.
pub static FIG3_2: Ch3Curve = Ch3Curve {
    info: ExperimentInfo {
        id: "fig3.2",
        title: "Dropout on the 1-conv CNN: FGSM accuracy and overfitting",
        reference: "Fig. 3.2, §3.2.2",
        models: &["ch3-cnn"],
        default_set: false,
    },
    nets: NETS,
    claims: &[
        Claim {
            text: "the network without dropout is the least accurate on FGSM examples (§3.2.2; checked at ε 0.1)",
            check: least_without_dropout,
        },
        Claim {
            text: "p = 0.9 is the most robust (§3.2.2; checked at ε 0.1)",
            check: most_at_p09,
        },
        Claim {
            text: "at ε 0.1, p = 0.9 is around 40 points above the network without dropout (§3.2.2)",
            check: forty_points,
        },
    ],
};
