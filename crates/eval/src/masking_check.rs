//! [`masking_check`]: the evidence of gradient masking on one model: at the
//! clean images and at FGSM examples of each ε, how many input gradients
//! are exactly zero, and how saturated the binary dense unit and the gates
//! are (`SaturationStats`).

use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use sgbn_attacks::{EvalClassifier, attack_dataset};
use sgbn_estimators::SeededRng;
use sgbn_metrics::{GradientSampling, GradientStats, SanityEvidence, SaturationStats};
use sgbn_models::{Classifier, ForwardContext};

use crate::{AttackSpec, Result};

/// The masking evidence at one ε (0: the clean images).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaskingPoint {
    /// FGSM budget of the images measured (0: clean).
    pub eps: f64,
    /// Share of images whose input gradient (true labels, the model's own
    /// estimators) is exactly zero.
    pub zero_gradient_examples: f64,
    /// Share of gradient components exactly zero.
    pub zero_gradient_components: f64,
    /// Non-finite gradient components.
    pub non_finite_gradients: u64,
    /// Saturation of the dense unit and the gates on these images.
    pub saturation: SaturationStats,
}

impl MaskingPoint {
    /// The evidence for the sanity flags.
    pub fn evidence(&self) -> SanityEvidence {
        SanityEvidence {
            zero_gradient_examples: Some(self.zero_gradient_examples),
            non_finite_gradients: Some(self.non_finite_gradients),
            saturation: Some(self.saturation),
            ..SanityEvidence::default()
        }
    }
}

/// Measures `model` (evaluation mode at `slope`) on `images` / `labels`
/// and on their FGSM examples at each nonzero ε of `eps`, drawing from
/// `rng`, in batches of `batch_size`.
pub fn masking_check(
    model: &dyn Classifier,
    slope: f64,
    images: &Tensor,
    labels: &Tensor,
    eps: &[f64],
    batch_size: usize,
    rng: &mut SeededRng,
) -> Result<Vec<MaskingPoint>> {
    let victim = EvalClassifier::new(model, slope);
    let mut points = Vec::with_capacity(eps.len());
    for &e in eps {
        let x = if e == 0.0 {
            images.clone()
        } else {
            attack_dataset(
                AttackSpec::fgsm(e).build(0)?.as_ref(),
                &victim,
                images,
                labels,
                batch_size,
                rng,
            )?
            .adversarial
        };
        let g = GradientStats::measure(
            &victim,
            &x,
            labels,
            GradientSampling {
                eot_samples: 1,
                batch_size,
            },
            rng,
        )?;
        let saturation =
            SaturationStats::measure(model, ForwardContext::eval(slope), &x, batch_size, rng)?;
        points.push(MaskingPoint {
            eps: e,
            zero_gradient_examples: g.zero_examples as f64 / g.examples.max(1) as f64,
            zero_gradient_components: g.zero_fraction,
            non_finite_gradients: g.non_finite,
            saturation,
        });
    }
    Ok(points)
}
