//! The thesis's claims about the binarized networks of Figs. 3.8–3.10
//! (§3.2.4), shared by `fig3.8`, `fig3.9` and `fig3.10`: each lists its
//! networks DBN, STE, REINFORCE in that order.

use super::ch3_curve::{Claim, CurveMeans, extreme};

/// The claims, for networks listed DBN, STE, REINFORCE.
pub const CLAIMS: &[Claim] = &[
    Claim {
        text: "STE and REINFORCE always perform better than DBN (§3.2.4; at every ε > 0 of the grid)",
        check: above_dbn,
    },
    Claim {
        text: "REINFORCE is more robust at higher perturbation levels than the others (§3.2.4; highest at ε 0.25)",
        check: reinforce_highest,
    },
];

fn above_dbn(c: &CurveMeans) -> Option<(bool, String)> {
    let mut worst = f64::INFINITY;
    for &e in c.eps.iter().filter(|e| **e > 0.0) {
        let dbn = c.at(0, e)?;
        worst = worst.min(c.at(1, e)? - dbn).min(c.at(2, e)? - dbn);
    }
    worst.is_finite().then(|| {
        (
            worst > 0.0,
            format!("smallest margin over DBN: {worst:+.1} points"),
        )
    })
}

fn reinforce_highest(c: &CurveMeans) -> Option<(bool, String)> {
    let (k, v) = extreme(c, 0.25, true)?;
    Some((
        k == 2,
        format!(
            "highest at ε 0.25: {} ({v:.1} %)",
            ["DBN", "STE", "REINFORCE"][k]
        ),
    ))
}
