//! Every named model of the thesis: its size and training memory before it
//! is built; then an SGBN built, run, and run again with its gate masks held
//! fixed (the evaluation that exposes gradient masking, docs/reproduction.md).
//!
//! `cargo run --release -p sgbn-models --example models`

use candle_core::{DType, Device, Tensor};
use sgbn_estimators::{seeded_rng, uniform_like};
use sgbn_models::{Classifier, ConvNet, ForwardContext, MODEL_NAMES, ModelSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for name in MODEL_NAMES {
        let spec = ModelSpec::named(name)?;
        let memory = spec.memory_estimate(50);
        println!(
            "{name:<16} {:>11} parameters, {:>6.2} GB to train with batch 50",
            memory.parameters,
            memory.total_bytes() as f64 / 1e9
        );
    }
    let device = Device::Cpu;
    let model = ConvNet::new(&ModelSpec::named("sgbn")?, 0, &device)?;
    let x = uniform_like(
        &Tensor::zeros((4, 1, 28, 28), DType::F32, &device)?,
        &mut seeded_rng(1),
    )?;
    let ctx = ForwardContext::eval(1.0);
    // The gates sample at evaluation too: two passes differ…
    let a = model.forward(&x, ctx, &mut seeded_rng(2))?;
    let b = model.forward(&x, ctx, &mut seeded_rng(3))?;
    println!(
        "two passes differ by {:.4} (max |Δ logit|)",
        max_abs(&a, &b)?
    );
    // …unless the masks of the first are held fixed and the dense unit's
    // draws repeat (same generator).
    // The gates are a capability of the model: `as_gated` is `None` for a
    // model without them.
    let gates = model.as_gated().expect("SGBN has gates");
    let masks: Vec<Option<Tensor>> = gates
        .gate_traces()
        .into_iter()
        .map(|t| t.map(|t| t.masks))
        .collect();
    let c = gates.forward_with_gate_masks(&x, ctx, &masks, &mut seeded_rng(3))?;
    let d = gates.forward_with_gate_masks(&x, ctx, &masks, &mut seeded_rng(3))?;
    assert_eq!(max_abs(&c, &d)?, 0.0);
    println!("with the masks held fixed and the same generator: identical");
    Ok(())
}

fn max_abs(a: &Tensor, b: &Tensor) -> candle_core::Result<f32> {
    (a - b)?.abs()?.max_all()?.to_scalar::<f32>()
}
