//! PGD with EOT against an ONNX classifier, with its random operators drawn
//! from a seeded generator and then held fixed.
//!
//! ```text
//! cargo run --release -p sgbn-onnx --example attack_onnx [-- model.onnx]
//! ```
//!
//! Without an argument it attacks the stochastic model PyTorch exported
//! into `tests/data/` (12×12 images) on random images, against its own
//! clean predictions (the labels do not matter to the demonstration).

use candle_core::{Device, Tensor};
use sgbn_attacks::{Attack, Batch, GradientAttack, Victim};
use sgbn_estimators::{seeded_rng, uniform_like};
use sgbn_onnx::OnnxModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/stochastic.onnx").to_string()
    });
    let model = OnnxModel::read(&file, &Device::Cpu)?;
    let [c, h, w] = model.image_shape();
    println!(
        "{file}: {} ({} classes, opset {}, {}), operators: {}",
        model.producer(),
        model.num_classes(),
        model.opset(),
        if model.is_stochastic() {
            "stochastic"
        } else {
            "deterministic"
        },
        model.ops().join(" ")
    );
    let mut rng = seeded_rng(0);
    let x = uniform_like(
        &Tensor::zeros((64, c, h, w), candle_core::DType::F32, &Device::Cpu)?,
        &mut rng,
    )?;
    let y = model.logits(&x, &mut rng)?.argmax(1)?;
    let batch = Batch::new(&x, &y)?;
    let pgd = GradientAttack::pgd(0.1, 0.025, 10)?.with_eot(4)?;
    let fresh = pgd.perturb(&model, &batch, &mut rng)?;
    let unchanged = |p: &[bool]| 100.0 * p.iter().filter(|s| !**s).count() as f64 / p.len() as f64;
    println!(
        "PGD-EOT, ε 0.1, 10 steps: {:.1} % keep their clean prediction",
        unchanged(&fresh.success)
    );
    if let Some(fixed) = model.fixed_at(&x, &mut rng)? {
        let held = pgd.perturb(fixed.as_ref(), &batch, &mut rng)?;
        println!(
            "PGD against its random draws held fixed (judged with the same draws): {:.1} % keep it",
            unchanged(&held.success)
        );
    }
    Ok(())
}
