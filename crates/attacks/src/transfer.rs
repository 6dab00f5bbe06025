//! Transfer (black-box) attacks: adversarial examples crafted on one model,
//! evaluated on others (thesis Fig. 4.6, Table 4.8).

use candle_core::Tensor;
use sgbn_estimators::SeededRng;

use crate::{Attack, Result, Victim, attack_dataset, predict_dataset};

/// Accuracy of each target model on the examples crafted on each source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TransferMatrix {
    /// The attack, as [`Attack::name`] gives it.
    pub attack: String,
    /// Source model names (rows).
    pub sources: Vec<String>,
    /// Target model names (columns).
    pub targets: Vec<String>,
    /// `accuracy[s][t]`: share of examples crafted on source `s` that target
    /// `t` still classifies correctly (one pass each).
    pub accuracy: Vec<Vec<f64>>,
    /// Examples per cell.
    pub total: usize,
}

/// Crafts `attack`'s examples on every source model and evaluates them on
/// every target. A model that is both source and target gives the white-box
/// figure on the diagonal (judged by a fresh pass).
pub fn transfer_matrix(
    attack: &dyn Attack,
    sources: &[(&str, &dyn Victim)],
    targets: &[(&str, &dyn Victim)],
    images: &Tensor,
    labels: &Tensor,
    batch_size: usize,
    rng: &mut SeededRng,
) -> Result<TransferMatrix> {
    let truth = labels.to_vec1::<u32>()?;
    let n = truth.len();
    let mut accuracy = Vec::with_capacity(sources.len());
    for (_, source) in sources {
        let crafted = attack_dataset(attack, *source, images, labels, batch_size, rng)?;
        let mut row = Vec::with_capacity(targets.len());
        for (_, target) in targets {
            let pred = predict_dataset(*target, &crafted.adversarial, batch_size, rng)?;
            let correct = pred.iter().zip(&truth).filter(|(p, y)| p == y).count();
            row.push(if n == 0 {
                0.0
            } else {
                correct as f64 / n as f64
            });
        }
        accuracy.push(row);
    }
    Ok(TransferMatrix {
        attack: attack.name(),
        sources: sources.iter().map(|(s, _)| s.to_string()).collect(),
        targets: targets.iter().map(|(t, _)| t.to_string()).collect(),
        accuracy,
        total: n,
    })
}
