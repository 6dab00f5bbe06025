//! Attacking a whole labelled set in batches.

use candle_core::Tensor;
use sgbn_estimators::SeededRng;

use crate::{Attack, AttackError, Batch, Perturbed, Result, Victim};

/// Runs `attack` against `victim` on `images` `(N, …)` / u32 `labels`
/// `(N,)` in batches of `batch_size`; example `i` has global index `i`, so the
/// outcome does not depend on `batch_size` for a deterministic model. The
/// outcome is a [`Perturbed`] over the whole set, in its order.
pub fn attack_dataset(
    attack: &dyn Attack,
    victim: &dyn Victim,
    images: &Tensor,
    labels: &Tensor,
    batch_size: usize,
    rng: &mut SeededRng,
) -> Result<Perturbed> {
    attack_dataset_with_progress(
        attack,
        victim,
        images,
        labels,
        batch_size,
        rng,
        &mut |_, _| {},
    )
}

/// [`attack_dataset`], calling `progress(done, total)` after each batch.
pub fn attack_dataset_with_progress(
    attack: &dyn Attack,
    victim: &dyn Victim,
    images: &Tensor,
    labels: &Tensor,
    batch_size: usize,
    rng: &mut SeededRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Perturbed> {
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
    Ok(Perturbed {
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
