//! A batch of labelled images to attack, and what an attack returns.

use candle_core::{D, DType, Tensor};
use sgbn_estimators::SeededRng;

use crate::{AttackError, Result, Victim};

/// Images `(B, C, H, W)` in `[0, 1]` with their u32 labels `(B,)`, and the
/// global index of each example (it keys the example's generator, see
/// [`example_rng`](crate::example_rng)): `first_index + i` for example `i`,
/// or a list of indices for a batch picked out of a larger one
/// ([`Batch::with_indices`], as the attack suites do with the images still
/// classified correctly).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Images `(B, C, H, W)`, pixel values in `[0, 1]`.
    pub images: &'a Tensor,
    /// True labels `(B,)`, u32.
    pub labels: &'a Tensor,
    /// Global index of the first example (0 unless the batch is a slice of a
    /// larger set).
    pub first_index: u64,
    /// Every example's global index, when they are not consecutive.
    indices: Option<&'a [u64]>,
}

impl<'a> Batch<'a> {
    /// A batch after checking shapes, label type, and that every pixel is a
    /// finite value in `[0, 1]`.
    pub fn new(images: &'a Tensor, labels: &'a Tensor) -> Result<Self> {
        let bad = |m: String| Err(AttackError::InvalidInput(m));
        if images.rank() != 4 {
            return bad(format!(
                "images must be (B, C, H, W), got {:?}",
                images.dims()
            ));
        }
        let b = images.dim(0)?;
        if labels.dims() != [b] || labels.dtype() != DType::U32 {
            return bad(format!(
                "labels must be u32 ({b},), got {:?} {:?}",
                labels.dtype(),
                labels.dims()
            ));
        }
        if b > 0 {
            let flat = images.flatten_all()?.to_dtype(DType::F32)?;
            let lo = flat.min(0)?.to_scalar::<f32>()?;
            let hi = flat.max(0)?.to_scalar::<f32>()?;
            // NaN fails both comparisons.
            if !(lo >= 0.0 && hi <= 1.0) {
                return bad(format!(
                    "pixel values must be finite and in [0, 1], found range [{lo}, {hi}]"
                ));
            }
        }
        Ok(Self {
            images,
            labels,
            first_index: 0,
            indices: None,
        })
    }

    /// The same batch whose example `i` has global index `indices[i]`.
    ///
    /// # Errors
    /// `indices` not of the batch's length.
    pub fn with_indices(mut self, indices: &'a [u64]) -> Result<Self> {
        if indices.len() != self.len() {
            return Err(AttackError::InvalidInput(format!(
                "{} indices for a batch of {}",
                indices.len(),
                self.len()
            )));
        }
        self.first_index = indices.first().copied().unwrap_or(0);
        self.indices = Some(indices);
        Ok(self)
    }

    /// The global index of example `i`.
    pub fn index(&self, i: usize) -> u64 {
        match self.indices {
            Some(list) => list[i],
            None => self.first_index + i as u64,
        }
    }

    /// The same batch whose first example has global index `index`.
    pub fn starting_at(mut self, index: u64) -> Self {
        self.first_index = index;
        self.indices = None;
        self
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.dims()[0]
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The labels on the host.
    pub fn label_vec(&self) -> Result<Vec<u32>> {
        Ok(self.labels.to_vec1::<u32>()?)
    }
}

/// The outcome of an attack on a batch.
#[derive(Debug, Clone)]
pub struct Perturbed {
    /// Adversarial images, same shape, dtype and device as the input.
    pub adversarial: Tensor,
    /// The class each example was pushed towards, for targeted attacks.
    pub targets: Option<Vec<u32>>,
    /// The model's prediction on each adversarial image (one forward pass
    /// after the attack, drawing from the caller's generator).
    pub predictions: Vec<u32>,
    /// Per example: misclassified (untargeted) or classified as its target
    /// (targeted), judged by `predictions`.
    pub success: Vec<bool>,
    /// Per example: forward passes the attack spent on it (gradient passes
    /// count each EOT sample; the final judging pass is not counted).
    pub forward_passes: Vec<usize>,
}

impl Perturbed {
    /// How many examples are still classified correctly.
    pub fn correct(&self, labels: &[u32]) -> usize {
        self.predictions
            .iter()
            .zip(labels)
            .filter(|(p, y)| p == y)
            .count()
    }
}

impl Perturbed {
    /// The input returned as it is (ε 0, or nothing to attack), judged by
    /// one pass, with no forward pass spent on the attack.
    pub(crate) fn unchanged(
        victim: &dyn Victim,
        x: Tensor,
        labels: &[u32],
        targets: Option<Vec<u32>>,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let (predictions, success) = judge(victim, &x, labels, targets.as_deref(), rng)?;
        Ok(Self {
            adversarial: x,
            targets,
            predictions,
            success,
            forward_passes: vec![0; labels.len()],
        })
    }
}

/// Predictions of `victim` on `x` (one pass) and per-example success.
pub(crate) fn judge(
    victim: &dyn Victim,
    x: &Tensor,
    labels: &[u32],
    targets: Option<&[u32]>,
    rng: &mut SeededRng,
) -> Result<(Vec<u32>, Vec<bool>)> {
    if labels.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let predictions = predict(victim, x, rng)?;
    let success = match targets {
        Some(t) => predictions.iter().zip(t).map(|(p, t)| p == t).collect(),
        None => predictions
            .iter()
            .zip(labels)
            .map(|(p, y)| p != y)
            .collect(),
    };
    Ok((predictions, success))
}

/// Argmax predictions of one forward pass.
pub(crate) fn predict(victim: &dyn Victim, x: &Tensor, rng: &mut SeededRng) -> Result<Vec<u32>> {
    let logits = victim.logits(&x.detach(), rng)?;
    Ok(logits.argmax(D::Minus1)?.to_vec1::<u32>()?)
}
