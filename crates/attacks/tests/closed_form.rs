//! Attacks on a linear softmax model, where the input gradient is known:
//! ∇ₓ CE(Wx + b, y) = Wᵀ (softmax(Wx + b) − e_y).

mod common;

use common::{Linear, host, images};
use rand::SeedableRng;
use sgbn_attacks::{
    Attack, AttackError, Batch, Goal, GradientAttack, SquareAttack, SquareAttackConfig, Victim,
    cross_entropy_per_example, loss_gradient,
};
use sgbn_estimators::SeededRng;

/// Closed-form input gradient of the CE at `labels`, per example, host f64.
#[allow(clippy::needless_range_loop)] // index math mirrors the formula
fn closed_form_gradient(model: &Linear, x: &[f32], labels: &[u32], d: usize) -> Vec<f64> {
    let w = model.w.to_vec2::<f32>().expect("w");
    let b = model.b.to_vec1::<f32>().expect("b");
    let k = b.len();
    let mut g = Vec::with_capacity(x.len());
    for (i, &y) in labels.iter().enumerate() {
        let xi = &x[i * d..(i + 1) * d];
        let z: Vec<f64> = (0..k)
            .map(|c| b[c] as f64 + (0..d).map(|j| w[c][j] as f64 * xi[j] as f64).sum::<f64>())
            .collect();
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        for j in 0..d {
            g.push(
                (0..k)
                    .map(|c| w[c][j] as f64 * (e[c] / s - if c as u32 == y { 1.0 } else { 0.0 }))
                    .sum(),
            );
        }
    }
    g
}

fn ce(model: &Linear, x: &candle_core::Tensor, labels: &[u32]) -> Vec<f32> {
    let y = candle_core::Tensor::from_slice(labels, labels.len(), x.device()).expect("y");
    let z = model
        .logits(x, &mut SeededRng::seed_from_u64(0))
        .expect("logits");
    cross_entropy_per_example(&z, &y)
        .expect("ce")
        .to_vec1()
        .expect("vec")
}

#[test]
fn input_gradient_matches_the_closed_form() {
    let model = Linear::random(5, 3 * 4 * 4, 1, false);
    let (x, y) = images(6, 3, 4, 4, 5, 2);
    let g = loss_gradient(&model, &x, &y, 1, &mut SeededRng::seed_from_u64(0)).expect("grad");
    let want = closed_form_gradient(&model, &host(&x), &y.to_vec1().expect("y"), 48);
    for (a, b) in host(&g).iter().zip(&want) {
        assert!(
            (*a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{a} vs {b}"
        );
    }
}

#[test]
fn fgsm_equals_the_closed_form() {
    let model = Linear::random(5, 2 * 5 * 5, 3, false);
    let (x, y) = images(8, 2, 5, 5, 5, 4);
    let labels: Vec<u32> = y.to_vec1().expect("y");
    let xs = host(&x);
    let g = closed_form_gradient(&model, &xs, &labels, 50);
    for eps in [0.05, 0.1, 0.3] {
        let out = GradientAttack::fgsm(eps)
            .expect("fgsm")
            .perturb(
                &model,
                &Batch::new(&x, &y).expect("batch"),
                &mut SeededRng::seed_from_u64(0),
            )
            .expect("fgsm");
        let adv = host(&out.adversarial);
        let mut checked = 0;
        for ((a, x0), gi) in adv.iter().zip(&xs).zip(&g) {
            if gi.abs() < 1e-5 {
                continue; // sign undecidable at f32 precision
            }
            let want = (*x0 as f64 + eps * gi.signum()).clamp(0.0, 1.0);
            assert!((*a as f64 - want).abs() <= 1e-6, "ε {eps}: {a} vs {want}");
            checked += 1;
        }
        assert!(
            checked > adv.len() * 9 / 10,
            "only {checked} of {} pixels checked",
            adv.len()
        );
    }
}

#[test]
fn bim_with_one_step_of_eps_is_fgsm() {
    let model = Linear::random(4, 36, 5, false);
    let (x, y) = images(5, 1, 6, 6, 4, 6);
    let batch = Batch::new(&x, &y).expect("batch");
    for eps in [0.02, 0.2] {
        let f = GradientAttack::fgsm(eps)
            .expect("fgsm")
            .perturb(&model, &batch, &mut SeededRng::seed_from_u64(1))
            .expect("fgsm");
        let b = GradientAttack::bim(eps, eps, 1)
            .expect("bim")
            .perturb(&model, &batch, &mut SeededRng::seed_from_u64(1))
            .expect("bim");
        assert_eq!(host(&f.adversarial), host(&b.adversarial));
        assert_eq!(f.predictions, b.predictions);
    }
}

#[test]
fn one_targeted_step_lowers_the_target_loss() {
    let model = Linear::random(6, 64, 9, false);
    // Interior pixels: the step is never clipped by [0, 1].
    let x = (images(10, 1, 8, 8, 6, 10).0 * 0.5)
        .expect("scale")
        .affine(1.0, 0.25)
        .expect("shift");
    let y = images(10, 1, 8, 8, 6, 10).1;
    let batch = Batch::new(&x, &y).expect("batch");
    for goal in [Goal::LeastLikely, Goal::RandomTarget, Goal::Class(2)] {
        let attack = GradientAttack::bim(0.01, 0.01, 1)
            .expect("bim")
            .with_goal(goal)
            .with_seed(4);
        let out = attack
            .perturb(&model, &batch, &mut SeededRng::seed_from_u64(0))
            .expect("attack");
        let targets = out
            .targets
            .clone()
            .expect("targeted attacks report targets");
        if goal == Goal::LeastLikely {
            let z = model
                .logits(&x, &mut SeededRng::seed_from_u64(0))
                .expect("z");
            let ll: Vec<u32> = z.argmin(1).expect("argmin").to_vec1().expect("ll");
            assert_eq!(
                targets, ll,
                "ILL aims at the least-likely class of the clean input"
            );
        }
        if goal == Goal::RandomTarget {
            let labels: Vec<u32> = y.to_vec1().expect("y");
            assert!(targets.iter().zip(&labels).all(|(t, y)| t != y && *t < 6));
        }
        let before = ce(&model, &x, &targets);
        let after = ce(&model, &out.adversarial, &targets);
        for (b, a) in before.iter().zip(&after) {
            assert!(a < b, "{goal:?}: target loss {b} → {a}");
        }
    }
}

#[test]
fn bad_configurations_are_errors_naming_the_value() {
    let msg = |e: AttackError| e.to_string();
    assert!(msg(GradientAttack::fgsm(-0.1).expect_err("negative ε")).contains("-0.1"));
    assert!(msg(GradientAttack::fgsm(f64::NAN).expect_err("NaN ε")).contains("NaN"));
    assert!(msg(GradientAttack::bim(0.1, 0.2, 10).expect_err("step > ε")).contains("0.2"));
    assert!(GradientAttack::bim(0.1, 0.01, 0).is_err());
    assert!(
        GradientAttack::fgsm(0.1)
            .expect("fgsm")
            .with_eot(0)
            .is_err()
    );
    assert!(SquareAttack::new(SquareAttackConfig::new(1.5)).is_err());
    assert!(
        SquareAttack::new(SquareAttackConfig {
            queries: 0,
            ..SquareAttackConfig::new(0.3)
        })
        .is_err()
    );
    // Inputs outside [0, 1] or labels of the wrong type.
    let (x, y) = images(2, 1, 3, 3, 2, 0);
    let shifted = (&x + 1.5).expect("shift");
    assert!(msg(Batch::new(&shifted, &y).expect_err("pixels > 1")).contains("[0, 1]"));
    let nan = (&x * f64::NAN).expect("nan");
    assert!(Batch::new(&nan, &y).is_err());
    let float_labels = y.to_dtype(candle_core::DType::F32).expect("f32");
    assert!(Batch::new(&x, &float_labels).is_err());
}
