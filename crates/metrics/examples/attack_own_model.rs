//! Attacking a model of your own, honestly: a small stochastic network
//! (a random half of its hidden units dropped on every pass, as a
//! randomized defense would) trained here, then PGD with EOT, the
//! gradient-free Square attack, accuracy over repeated passes, and the
//! sanity flags that say when a gradient attack's number cannot be trusted.
//!
//! `cargo run --release -p sgbn-metrics --example attack_own_model`

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::Optimizer;
use sgbn_attacks::{
    Attack, GradientAttack, SquareAttack, SquareAttackConfig, attack_dataset, victim_fn,
};
use sgbn_estimators::{SeededRng, seeded_rng, uniform_like};
use sgbn_metrics::{AttackAccuracy, Passes, RepeatedAccuracy, SanityEvidence, SanityFlags};

/// dense 64 → 32 → ReLU → random keep-half mask → dense 2.
struct Net {
    hidden: candle_nn::Linear,
    out: candle_nn::Linear,
}

impl Net {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> candle_core::Result<Tensor> {
        let h = self.hidden.forward(&x.flatten_from(1)?)?.relu()?;
        // The defense's randomness comes from the caller's generator, so
        // EOT and repeated passes are reproducible.
        let keep = uniform_like(&h, rng)
            .map_err(candle_core::Error::wrap)?
            .ge(0.5)?;
        self.out
            .forward(&((h * keep.to_dtype(DType::F32)?)? * 2.0)?)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::Cpu;
    let mut rng = seeded_rng(0);
    // Toy data: 8×8 images, class 1 is brighter on the left half.
    let noise = uniform_like(
        &Tensor::zeros((200, 1, 8, 8), DType::F32, &device)?,
        &mut rng,
    )?;
    let shift = Tensor::cat(
        &[
            Tensor::full(0.2f32, (200, 1, 8, 4), &device)?,
            Tensor::full(-0.2f32, (200, 1, 8, 4), &device)?,
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
    let sign = Tensor::cat(
        &[
            Tensor::full(-1f32, (100, 1, 1, 1), &device)?,
            Tensor::ones((100, 1, 1, 1), DType::F32, &device)?,
        ],
        0,
    )?;
    let x = ((noise * 0.6)? + 0.2)?
        .broadcast_add(&shift.broadcast_mul(&sign)?)?
        .clamp(0f32, 1f32)?;

    // Parameters initialized from a seed (candle cannot seed its CPU
    // generator, so a plain `VarMap` would give other weights every run).
    let varmap = sgbn_layers::SeededVarMap::new(0);
    let vb = varmap.var_builder(DType::F32, &device);
    let net = Net {
        hidden: candle_nn::linear(64, 32, vb.pp("hidden"))?,
        out: candle_nn::linear(32, 2, vb.pp("out"))?,
    };
    let vars = varmap.vars().into_iter().map(|(_, v)| v).collect();
    let mut opt = candle_nn::AdamW::new_lr(vars, 1e-2)?;
    for _ in 0..100 {
        let loss = candle_nn::loss::cross_entropy(&net.logits(&x, &mut rng)?, &y)?;
        opt.backward_step(&loss)?;
    }

    // The whole glue: a closure victim.
    // Its logits draw from the generator: say so (Square then confirms its
    // successes by fresh passes, as the evaluation judges them).
    let victim = victim_fn(2, |x: &Tensor, rng: &mut SeededRng| net.logits(x, rng)).stochastic();

    // Clean accuracy over 5 passes: a stochastic model's predictions change.
    let clean = RepeatedAccuracy::measure(
        &victim,
        &x,
        &y,
        Passes {
            repeats: 5,
            batch_size: 100,
        },
        &mut rng,
    )?;
    println!(
        "clean: {:.1} % (± {:.1} over 5 passes), {:.1} % of predictions change between passes",
        100.0 * clean.summary.mean,
        100.0 * clean.summary.std,
        100.0 * clean.unstable_fraction
    );

    let eps = 0.2;
    let accuracy = |adv: &Tensor, rng: &mut SeededRng| -> Result<f64, Box<dyn std::error::Error>> {
        Ok(RepeatedAccuracy::measure(
            &victim,
            adv,
            &y,
            Passes {
                repeats: 5,
                batch_size: 100,
            },
            rng,
        )?
        .summary
        .mean)
    };
    // PGD, the gradient averaged over 10 draws of the randomness (EOT).
    let pgd = GradientAttack::pgd(eps, 2.5 * eps / 20.0, 20)?.with_eot(10)?;
    let out = attack_dataset(&pgd, &victim, &x, &y, 100, &mut rng)?;
    let pgd_acc = accuracy(&out.adversarial, &mut rng)?;
    // Square: no gradients at all.
    let square = SquareAttack::new(SquareAttackConfig {
        queries: 300,
        ..SquareAttackConfig::new(eps)
    })?;
    let out = attack_dataset(&square, &victim, &x, &y, 100, &mut rng)?;
    let square_acc = accuracy(&out.adversarial, &mut rng)?;
    println!(
        "ε {eps}: {} {:.1} %, {} {:.1} %",
        pgd.name(),
        100.0 * pgd_acc,
        square.name(),
        100.0 * square_acc
    );

    let flags = SanityFlags::check(
        &SanityEvidence {
            unstable_fraction: Some(clean.unstable_fraction),
            ..SanityEvidence::default()
        }
        .with_attacks(
            Some(AttackAccuracy {
                accuracy: pgd_acc,
                n: 200,
            }),
            Some(AttackAccuracy {
                accuracy: square_acc,
                n: 200,
            }),
        ),
    );
    for w in flags.warnings() {
        println!("sanity: {w}");
    }
    assert!(
        pgd_acc < clean.summary.mean,
        "PGD did not lower the accuracy"
    );
    Ok(())
}
