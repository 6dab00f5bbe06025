//! Per-example losses the attacks climb or descend.

use candle_core::{DType, Tensor};

use crate::{AttackError, Result};

/// Cross-entropy `−log softmax(z)_y` of each row of `logits` `(B, K)` at the
/// u32 `labels` `(B,)`: a `(B,)` tensor, differentiable in `logits`. The
/// same function training minimizes
/// ([`sgbn_models::cross_entropy_per_example`]); here its shape errors are
/// [`AttackError::InvalidInput`].
pub fn cross_entropy_per_example(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    sgbn_models::cross_entropy_per_example(logits, labels).map_err(|e| match e {
        sgbn_models::ModelError::ShapeMismatch(m) => AttackError::InvalidInput(m),
        other => other.into(),
    })
}

/// The margin `z_y − max_{j≠y} z_j` of each row of `logits` `(B, K)` (f32
/// values on the host): positive while class `y` wins, ≤ 0 once another class
/// ties or wins. The Square attack minimises it (Andriushchenko et al. 2020).
pub fn margins(logits: &Tensor, labels: &[u32]) -> Result<Vec<f32>> {
    let rows = logits.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    if rows.len() != labels.len() {
        return Err(AttackError::InvalidInput(format!(
            "{} logit rows for {} labels",
            rows.len(),
            labels.len()
        )));
    }
    rows.iter()
        .zip(labels)
        .map(|(row, &y)| {
            let y = y as usize;
            if y >= row.len() {
                return Err(AttackError::InvalidInput(format!(
                    "label {y} out of range for {} classes",
                    row.len()
                )));
            }
            let other = row
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != y)
                .map(|(_, &z)| z)
                .fold(f32::NEG_INFINITY, f32::max);
            Ok(row[y] - other)
        })
        .collect()
}

/// The difference-of-logits-ratio loss of Croce & Hein (2020, eq. 5) of each
/// row of `logits` `(B, K)` at the u32 `labels` `(B,)`:
/// `−(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 10⁻¹²)`, where `z_π1 ≥ z_π2 ≥ …`
/// are the sorted logits. A `(B,)` tensor, differentiable in `logits` (the
/// sort order is fixed at the current values). Unlike cross-entropy it does
/// not vanish when the softmax saturates, and it is invariant to shifting
/// and scaling the logits. Needs K ≥ 3.
pub fn dlr_loss(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let ranked = ranked_rows(logits, labels, 3)?;
    let pick = |cols: Vec<u32>| pick_columns(logits, cols);
    let other: Vec<u32> = ranked
        .iter()
        .map(|(y, order)| if order[0] == *y { order[1] } else { order[0] })
        .collect();
    let z_y = pick(ranked.iter().map(|(y, _)| *y).collect())?;
    let z_other = pick(other)?;
    let z_1 = pick(ranked.iter().map(|(_, o)| o[0]).collect())?;
    let z_3 = pick(ranked.iter().map(|(_, o)| o[2]).collect())?;
    let scale = ((z_1 - z_3)? + 1e-12)?;
    Ok((z_y - z_other)?.div(&scale)?.neg()?)
}

/// The targeted DLR loss of Croce & Hein (2020, eq. 6) towards `targets`:
/// `−(z_y − z_t) / (z_π1 − (z_π3 + z_π4) / 2 + 10⁻¹²)`, per row, as
/// [`dlr_loss`]. Needs K ≥ 4.
pub fn targeted_dlr_loss(logits: &Tensor, labels: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let ranked = ranked_rows(logits, labels, 4)?;
    let target_host: Vec<u32> = targets.to_vec1()?;
    if target_host.len() != ranked.len() {
        return Err(AttackError::InvalidInput(format!(
            "{} targets for {} logit rows",
            target_host.len(),
            ranked.len()
        )));
    }
    let classes = logits.dim(1)? as u32;
    if let Some(t) = target_host.iter().find(|&&t| t >= classes) {
        return Err(AttackError::InvalidInput(format!(
            "target {t} out of range for {classes} classes"
        )));
    }
    let pick = |cols: Vec<u32>| pick_columns(logits, cols);
    let z_y = pick(ranked.iter().map(|(y, _)| *y).collect())?;
    let z_t = pick(target_host)?;
    let z_1 = pick(ranked.iter().map(|(_, o)| o[0]).collect())?;
    let z_3 = pick(ranked.iter().map(|(_, o)| o[2]).collect())?;
    let z_4 = pick(ranked.iter().map(|(_, o)| o[3]).collect())?;
    let scale = ((z_1 - ((z_3 + z_4)? * 0.5)?)? + 1e-12)?;
    Ok((z_y - z_t)?.div(&scale)?.neg()?)
}

/// Each row's label and its class indices by decreasing logit, after
/// checking the shapes, the labels and that there are at least `min_classes`.
fn ranked_rows(
    logits: &Tensor,
    labels: &Tensor,
    min_classes: usize,
) -> Result<Vec<(u32, Vec<u32>)>> {
    let (b, k) = logits.dims2().map_err(|_| {
        AttackError::InvalidInput(format!("logits must be (B, K), got {:?}", logits.dims()))
    })?;
    if k < min_classes {
        return Err(AttackError::InvalidInput(format!(
            "the DLR loss needs at least {min_classes} classes, got {k}"
        )));
    }
    let y: Vec<u32> = labels.to_vec1()?;
    if y.len() != b {
        return Err(AttackError::InvalidInput(format!(
            "{} labels for {b} logit rows",
            y.len()
        )));
    }
    let rows = logits.detach().to_dtype(DType::F32)?.to_vec2::<f32>()?;
    rows.iter()
        .zip(y)
        .map(|(row, y)| {
            if y as usize >= k {
                return Err(AttackError::InvalidInput(format!(
                    "label {y} out of range for {k} classes"
                )));
            }
            let mut order: Vec<u32> = (0..k as u32).collect();
            order.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]));
            Ok((y, order))
        })
        .collect()
}

/// `logits[i, cols[i]]` for every row, as a differentiable `(B,)` tensor.
fn pick_columns(logits: &Tensor, cols: Vec<u32>) -> Result<Tensor> {
    let b = cols.len();
    let index = Tensor::from_vec(cols, (b, 1), logits.device())?;
    Ok(logits.gather(&index, 1)?.squeeze(1)?)
}
