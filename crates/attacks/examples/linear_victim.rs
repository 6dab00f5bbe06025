//! The attacks on a model whose answer is known: a linear classifier
//! `logits = [0, w·x]` on 2 × 2 images, where FGSM's step is exactly the
//! worst case of the ℓ∞ ball. FGSM, PGD (with EOT on a noisy copy of the
//! model) and the gradient-free Square attack, each on 100 images.
//!
//! `cargo run --release -p sgbn-attacks --example linear_victim`

use candle_core::{DType, Device, Tensor};
use sgbn_attacks::{
    Attack, GradientAttack, SquareAttack, SquareAttackConfig, attack_dataset, victim_fn,
};
use sgbn_estimators::{SeededRng, seeded_rng, uniform_like};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::Cpu;
    let w = Tensor::new(&[1f32, -1.0, 1.0, -1.0], &device)?.reshape((4, 1))?;
    // Class 1 when w·x > 0.
    let logits = |x: &Tensor| -> candle_core::Result<Tensor> {
        let score = x.flatten_from(1)?.matmul(&w)?;
        Tensor::cat(&[score.zeros_like()?, score], 1)
    };
    let x = uniform_like(
        &Tensor::zeros((100, 1, 2, 2), DType::F32, &device)?,
        &mut seeded_rng(0),
    )?;
    let y = logits(&x)?.argmax(1)?; // every image starts classified as the model says
    let margin: Vec<f32> = x
        .flatten_from(1)?
        .matmul(&w)?
        .abs()?
        .flatten_all()?
        .to_vec1()?;
    for eps in [0.05, 0.1, 0.2] {
        // The exact answer: no attack flips an image with |w·x| ≥ ε·‖w‖₁, and
        // every other one flips unless the [0, 1] box stops it.
        let flippable = margin.iter().filter(|m| **m < eps as f32 * 4.0).count();
        let victim = victim_fn(2, |x: &Tensor, _: &mut SeededRng| logits(x));
        let fgsm = GradientAttack::fgsm(eps)?;
        let out = attack_dataset(&fgsm, &victim, &x, &y, 50, &mut seeded_rng(1))?;
        let kept = out.correct(&y.to_vec1::<u32>()?);
        // A noisy copy, declared stochastic: EOT averages the noise away.
        // (`?` on sgbn's errors works inside `candle_core::Result` code.)
        let noisy = victim_fn(2, |x: &Tensor, rng: &mut SeededRng| {
            let noise = (uniform_like(x, rng)? - 0.5)?;
            logits(&(x + (noise * 0.02)?)?)
        })
        .stochastic();
        let pgd = GradientAttack::pgd(eps, eps / 4.0, 20)?.with_eot(8)?;
        let pgd_kept = attack_dataset(&pgd, &noisy, &x, &y, 50, &mut seeded_rng(2))?
            .correct(&y.to_vec1::<u32>()?);
        let square = SquareAttack::new(SquareAttackConfig {
            queries: 200,
            ..SquareAttackConfig::new(eps)
        })?;
        let sq_kept = attack_dataset(&square, &victim, &x, &y, 50, &mut seeded_rng(3))?
            .correct(&y.to_vec1::<u32>()?);
        println!(
            "ε {eps}: at least {} of 100 keep their label under any attack; {} {kept}, {} {pgd_kept} (noisy model), {} {sq_kept}",
            100 - flippable,
            fgsm.name(),
            pgd.name(),
            square.name()
        );
        assert!(
            kept <= 100 - flippable + 5,
            "FGSM is optimal on a linear model"
        );
    }
    Ok(())
}
