//! Attacking a whole labelled set in batches.

use candle_core::Tensor;
use sgbn_estimators::SeededRng;

use crate::{Attack, AttackError, Batch, Result, Victim};

/// An attack's outcome over a whole set, in the set's order.
#[derive(Debug, Clone)]
pub struct DatasetOutcome {
    /// Adversarial images `(N, C, H, W)`.
    pub adversarial: Tensor,
    /// Target class per example, for targeted attacks.
    pub targets: Option<Vec<u32>>,
    /// Prediction on each adversarial image (one pass).
    pub predictions: Vec<u32>,
    /// Per-example success (see [`Perturbed`](crate::Perturbed)).
    pub success: Vec<bool>,
    /// Forward passes spent per example.
    pub forward_passes: Vec<usize>,
}

impl DatasetOutcome {
    /// Examples still classified as their true label.
    pub fn correct(&self, labels: &[u32]) -> usize {
        self.predictions
            .iter()
            .zip(labels)
            .filter(|(p, y)| p == y)
            .count()
    }
}

/// Runs `attack` against `victim` on `images` `(N, …)` / u32 `labels`
/// `(N,)` in batches of `batch_size`; example `i` has global index `i`, so the
/// outcome does not depend on `batch_size` for a deterministic model.
/// `progress(done, total)` is called after each batch.
pub fn attack_dataset(
    attack: &dyn Attack,
    victim: &dyn Victim,
    images: &Tensor,
    labels: &Tensor,
    batch_size: usize,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetOutcome> {
    let n = labels.dim(0)?;
    if batch_size == 0 {
        return Err(AttackError::InvalidConfig("batch size must be ≥ 1".into()));
    }
    if images.dim(0)? != n {
        return Err(AttackError::InvalidInput(format!(
            "{} images for {n} labels",
            images.dim(0)?
        )));
    }
    let mut adversarial = Vec::new();
    let mut targets: Option<Vec<u32>> = None;
    let mut predictions = Vec::with_capacity(n);
    let mut success = Vec::with_capacity(n);
    let mut forward_passes = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let len = batch_size.min(n - start);
        let x = images.narrow(0, start, len)?;
        let y = labels.narrow(0, start, len)?;
        let batch = Batch::new(&x, &y)?.starting_at(start as u64);
        let out = attack.perturb(victim, &batch, rng)?;
        adversarial.push(out.adversarial);
        if let Some(t) = out.targets {
            targets.get_or_insert_with(Vec::new).extend(t);
        }
        predictions.extend(out.predictions);
        success.extend(out.success);
        forward_passes.extend(out.forward_passes);
        start += len;
        progress(start, n);
    }
    let adversarial = if adversarial.is_empty() {
        images.detach()
    } else {
        Tensor::cat(&adversarial, 0)?
    };
    Ok(DatasetOutcome {
        adversarial,
        targets,
        predictions,
        success,
        forward_passes,
    })
}

/// Predictions of `victim` on `images` in batches, one pass each.
pub fn predict_dataset(
    victim: &dyn Victim,
    images: &Tensor,
    batch_size: usize,
    rng: &mut SeededRng,
) -> Result<Vec<u32>> {
    if batch_size == 0 {
        return Err(AttackError::InvalidConfig("batch size must be ≥ 1".into()));
    }
    let n = images.dim(0)?;
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let len = batch_size.min(n - start);
        out.extend(crate::batch::predict(
            victim,
            &images.narrow(0, start, len)?,
            rng,
        )?);
        start += len;
    }
    Ok(out)
}
