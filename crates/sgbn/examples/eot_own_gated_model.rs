//! A gated candle model of one's own, attacked through the `sgbn` crate
//! alone: a conv layer whose every weight is switched on or off per input
//! by a stochastic gate (`sgbn::layers`, eq. 4.1 of the thesis), trained
//! briefly on toy data, then EOT-PGD and the gradient-free Square attack,
//! judged over fresh passes, with `?` on every error (sgbn's errors convert
//! into candle's).
//!
//! `cargo run --release -p sgbn --example eot_own_gated_model`

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Optimizer, VarBuilder};
use sgbn::layers::ConvGeometry;
use sgbn::prelude::*;

/// 1×8×8 → gated conv 4×3×3 → ReLU → dense 2.
struct GatedNet {
    conv: MaskedConv2d,
    gate: GateModule,
    out: sgbn::layers::Dense,
}

impl GatedNet {
    fn new(vb: VarBuilder<'_>) -> candle_core::Result<Self> {
        let geometry = ConvGeometry {
            in_channels: 1,
            height: 8,
            width: 8,
            kernel: 3,
            stride: 1,
            padding: 0,
        };
        let config = GateConfig {
            hidden: [16, 16],
            ..GateConfig::default()
        };
        Ok(Self {
            conv: masked_conv2d(1, 4, 3, MaskedConv2dConfig::default(), vb.pp("conv"))?,
            gate: gate_module(geometry, 4, config, vb.pp("gate"))?,
            out: dense(4 * 6 * 6, 2, Default::default(), vb.pp("out"))?,
        })
    }

    /// The masks are drawn from the caller's generator: EOT and repeated
    /// passes are reproducible.
    fn logits(&self, x: &Tensor, train: bool, rng: &mut SeededRng) -> candle_core::Result<Tensor> {
        let masks = self.gate.masks(x, None, train, rng)?;
        let h = self.conv.forward_masked(x, Some(&masks))?.relu()?;
        self.out.forward(&h.flatten_from(1)?)
    }
}

/// 200 toy images: class 1 is brighter on the left half.
fn toy_data(rng: &mut SeededRng) -> candle_core::Result<(Tensor, Tensor)> {
    let device = Device::Cpu;
    let noise =
        sgbn::estimators::uniform_like(&Tensor::zeros((200, 1, 8, 8), DType::F32, &device)?, rng)?;
    let left = Tensor::cat(
        &[
            Tensor::ones((1, 1, 8, 4), DType::F32, &device)?,
            Tensor::zeros((1, 1, 8, 4), DType::F32, &device)?,
        ],
        3,
    )?;
    let y = Tensor::cat(
        &[
            Tensor::zeros(100, DType::U32, &device)?,
            Tensor::ones(100, DType::U32, &device)?,
        ],
        0,
    )?;
    let shift = y
        .to_dtype(DType::F32)?
        .reshape((200, 1, 1, 1))?
        .broadcast_mul(&left)?;
    let x = ((noise * 0.5)? + (shift * 0.4)?)?.clamp(0f32, 1f32)?;
    Ok((x, y))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(0);
    let (x, y) = toy_data(&mut rng)?;
    // Parameters initialized from a seed (candle cannot seed its CPU
    // generator, so a plain `VarMap` would give other weights every run).
    let varmap = SeededVarMap::new(0);
    let net = GatedNet::new(varmap.var_builder(DType::F32, &Device::Cpu))?;
    let vars = varmap.vars().into_iter().map(|(_, v)| v).collect();
    let mut opt = candle_nn::AdamW::new_lr(vars, 1e-2)?;
    for _ in 0..60 {
        let loss = candle_nn::loss::cross_entropy(&net.logits(&x, true, &mut rng)?, &y)?;
        opt.backward_step(&loss)?;
    }

    // The glue: a closure, declared stochastic (its gates sample).
    let victim = victim_fn(2, |x: &Tensor, rng: &mut SeededRng| {
        net.logits(x, false, rng)
    })
    .stochastic();
    let passes = Passes {
        repeats: 5,
        batch_size: 100,
    };
    let clean = RepeatedAccuracy::measure(&victim, &x, &y, passes, &mut rng)?;
    println!("clean: {:.1} % over 5 passes", 100.0 * clean.summary.mean);

    let eps = 0.2;
    let batch = Batch::new(&x, &y)?;
    // PGD with the gradient averaged over 10 draws of the gates (EOT).
    let pgd = GradientAttack::pgd(eps, 2.5 * eps / 20.0, 20)?.with_eot(10)?;
    let adv = pgd.perturb(&victim, &batch, &mut rng)?.adversarial;
    let pgd_acc = RepeatedAccuracy::measure(&victim, &adv, &y, passes, &mut rng)?;
    // Square: gradient-free, its successes confirmed on fresh passes.
    let square = SquareAttack::new(SquareAttackConfig {
        queries: 200,
        ..SquareAttackConfig::new(eps)
    })?;
    let adv = square.perturb(&victim, &batch, &mut rng)?.adversarial;
    let square_acc = RepeatedAccuracy::measure(&victim, &adv, &y, passes, &mut rng)?;
    println!(
        "ε {eps}: EOT-PGD {:.1} %, Square {:.1} % (over 5 passes each)",
        100.0 * pgd_acc.summary.mean,
        100.0 * square_acc.summary.mean
    );
    Ok(())
}
