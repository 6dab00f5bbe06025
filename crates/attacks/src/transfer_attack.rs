//! [`TransferAttack`]: an attack crafted on a surrogate model and judged on
//! the victim (the black-box transfer setting of Papernot et al. 2017 and
//! thesis §4.6.1), as an [`Attack`] so that the one evaluation protocol
//! counts it like every other.

use sgbn_estimators::SeededRng;

use crate::batch::judge;
use crate::{Attack, Batch, Perturbed, Result, Victim};

/// `inner` run against `surrogate`; the victim only classifies the result.
///
/// The victim spends no forward pass on crafting (`forward_passes` is 0);
/// its judging pass draws from the caller's generator like every attack's.
pub struct TransferAttack<'s> {
    inner: Box<dyn Attack + 's>,
    surrogate: &'s dyn Victim,
}

impl std::fmt::Debug for TransferAttack<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferAttack")
            .field("inner", &self.inner.name())
            .finish_non_exhaustive()
    }
}

impl<'s> TransferAttack<'s> {
    /// `inner`, crafted on `surrogate`.
    pub fn new(inner: Box<dyn Attack + 's>, surrogate: &'s dyn Victim) -> Self {
        Self { inner, surrogate }
    }
}

impl Attack for TransferAttack<'_> {
    fn name(&self) -> String {
        format!("transfer({})", self.inner.name())
    }

    fn eps(&self) -> f64 {
        self.inner.eps()
    }

    fn perturb(
        &self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        rng: &mut SeededRng,
    ) -> Result<Perturbed> {
        let crafted = self.inner.perturb(self.surrogate, batch, rng)?;
        let labels = batch.label_vec()?;
        let (predictions, success) = judge(
            victim,
            &crafted.adversarial,
            &labels,
            crafted.targets.as_deref(),
            rng,
        )?;
        Ok(Perturbed {
            adversarial: crafted.adversarial,
            targets: crafted.targets,
            predictions,
            success,
            forward_passes: vec![0; labels.len()],
        })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{D, DType, Device, Tensor};
    use sgbn_estimators::SeededRng;

    use super::TransferAttack;
    use crate::{Attack, Batch, GradientAttack, Victim, victim_fn};

    /// Linear 2-class models on 4 pixels: `w · x` for class 1, `−w · x` for class 0.
    fn linear(w: [f32; 4]) -> impl Victim {
        victim_fn(2, move |x: &Tensor, _: &mut SeededRng| {
            let w = Tensor::new(&w, x.device())?.reshape((4, 1))?;
            let s = x.flatten_from(1)?.matmul(&w)?;
            Tensor::cat(&[s.neg()?, s], D::Minus1)
        })
    }

    #[test]
    fn crafts_on_the_surrogate_and_judges_on_the_victim() -> crate::Result<()> {
        let dev = Device::Cpu;
        // Class 1 images: the surrogate and the first victim agree on the
        // direction, the second victim reads other pixels.
        let x = Tensor::full(0.5f32, (3, 1, 2, 2), &dev)?;
        let y = Tensor::ones(3, DType::U32, &dev)?;
        let surrogate = linear([1.0, 1.0, 0.0, 0.0]);
        let aligned = linear([1.0, 1.0, -0.5, 0.0]);
        let orthogonal = linear([0.0, 0.0, 1.0, 1.0]);
        let attack = TransferAttack::new(Box::new(GradientAttack::fgsm(0.6)?), &surrogate);
        let batch = Batch::new(&x, &y)?;
        let mut rng = sgbn_estimators::seeded_rng(0);
        let on_aligned = attack.perturb(&aligned, &batch, &mut rng)?;
        let on_orthogonal = attack.perturb(&orthogonal, &batch, &mut rng)?;
        // The images do not depend on the victim.
        let diff = (&on_aligned.adversarial - &on_orthogonal.adversarial)?
            .abs()?
            .sum_all()?
            .to_scalar::<f32>()?;
        assert_eq!(diff, 0.0);
        // Pixels 0, 1 went to 0 (the surrogate's gradient is 0 on 2, 3): the
        // aligned victim's score fell from 0.75 to −0.25, the other's stayed 1.
        assert!(on_aligned.success.iter().all(|s| *s));
        assert!(on_orthogonal.success.iter().all(|s| !*s));
        assert_eq!(on_aligned.forward_passes, vec![0; 3]);
        assert!(attack.name().starts_with("transfer(fgsm"));
        Ok(())
    }
}
