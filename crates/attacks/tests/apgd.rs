//! APGD (CE, DLR, targeted) and the attack suites: the DLR losses in closed
//! form, APGD against the exact robust accuracy of a linear model, its start,
//! batch independence, and the suite's per-image worst case.

mod common;

use candle_core::{Device, Tensor};
use common::{Counting, Linear, host, images};
use rand::{Rng, SeedableRng};
use sgbn_attacks::{
    Apgd, Attack, AttackSuite, Batch, GradientAttack, SuiteVersion, Victim,
    cross_entropy_per_example, dlr_loss, example_rng, targeted_dlr_loss,
};
use sgbn_estimators::SeededRng;

fn rng() -> SeededRng {
    SeededRng::seed_from_u64(3)
}

#[test]
fn the_dlr_losses_match_their_formulas_and_ignore_shift_and_scale() {
    // Sorted logits of row 0: 4 (class 2), 3 (class 0), 1 (class 3), 0 (class 1).
    let z = Tensor::new(&[[3f32, 0., 4., 1.], [3., 0., 4., 1.]], &Device::Cpu).expect("z");
    let y = Tensor::new(&[0u32, 2], &Device::Cpu).expect("y");
    let got: Vec<f32> = dlr_loss(&z, &y).expect("dlr").to_vec1().expect("v");
    // y = 0 is not the top class: −(3 − 4) / (4 − 1); y = 2 is: −(4 − 3) / (4 − 1).
    assert!((got[0] - 1.0 / 3.0).abs() < 1e-6, "{got:?}");
    assert!((got[1] + 1.0 / 3.0).abs() < 1e-6, "{got:?}");
    let t = Tensor::new(&[3u32, 1], &Device::Cpu).expect("t");
    let got: Vec<f32> = targeted_dlr_loss(&z, &y, &t)
        .expect("t")
        .to_vec1()
        .expect("v");
    // −(z_y − z_t) / (z_π1 − (z_π3 + z_π4) / 2) = −(3 − 1) / (4 − 0.5), −(4 − 0) / 3.5.
    assert!((got[0] + 2.0 / 3.5).abs() < 1e-6, "{got:?}");
    assert!((got[1] + 4.0 / 3.5).abs() < 1e-6, "{got:?}");
    let moved = ((&z * 7.0).expect("scale") + 5.0).expect("shift");
    let again: Vec<f32> = dlr_loss(&moved, &y).expect("dlr").to_vec1().expect("v");
    assert!((again[0] - 1.0 / 3.0).abs() < 1e-5 && (again[1] + 1.0 / 3.0).abs() < 1e-5);
    // Too few classes and bad labels are refused, not clamped.
    let two = Tensor::new(&[[1f32, 0.]], &Device::Cpu).expect("two");
    let y1 = Tensor::new(&[0u32], &Device::Cpu).expect("y");
    assert!(
        dlr_loss(&two, &y1)
            .expect_err("K = 2")
            .to_string()
            .contains("3 classes")
    );
    let bad = Tensor::new(&[9u32, 0], &Device::Cpu).expect("bad");
    assert!(
        dlr_loss(&z, &bad)
            .expect_err("label 9")
            .to_string()
            .contains("label 9")
    );
}

/// Exactly robust examples of a linear model in the ε-ball ∩ [0, 1]: for
/// every other class j, the smallest margin `(w_y − w_j)·x' + b_y − b_j`
/// over the box stays positive.
fn exactly_robust(model: &Linear, x: &[f32], labels: &[u32], eps: f32) -> Vec<bool> {
    let w = model.w.to_vec2::<f32>().expect("w");
    let b = model.b.to_vec1::<f32>().expect("b");
    let d = w[0].len();
    labels
        .iter()
        .enumerate()
        .map(|(i, &y)| {
            let xi = &x[i * d..(i + 1) * d];
            (0..b.len()).filter(|&j| j != y as usize).all(|j| {
                let m: f64 = (0..d)
                    .map(|p| {
                        let c = (w[y as usize][p] - w[j][p]) as f64;
                        let (lo, hi) = ((xi[p] - eps).max(0.0), (xi[p] + eps).min(1.0));
                        c * if c > 0.0 { lo } else { hi } as f64
                    })
                    .sum::<f64>()
                    + (b[y as usize] - b[j]) as f64;
                m > 0.0
            })
        })
        .collect()
}

#[test]
fn apgd_reaches_the_exact_robust_accuracy_of_a_linear_model_and_never_below() {
    let model = Linear::random(4, 36, 11, false);
    let (x, y) = images(60, 1, 6, 6, 4, 12);
    let labels: Vec<u32> = y.to_vec1().expect("y");
    let batch = Batch::new(&x, &y).expect("batch");
    for eps in [0.02f32, 0.05, 0.1] {
        let exact = exactly_robust(&model, &host(&x), &labels, eps);
        let clean = model
            .logits(&x, &mut rng())
            .expect("z")
            .argmax(1)
            .expect("argmax")
            .to_vec1::<u32>()
            .expect("v");
        let suite = AttackSuite::new(
            "apgd-ce+t",
            eps as f64,
            vec![
                Box::new(
                    Apgd::ce(eps as f64)
                        .expect("ce")
                        .with_steps(50)
                        .expect("steps"),
                ),
                Box::new(
                    Apgd::targeted(eps as f64, 3)
                        .expect("t")
                        .with_steps(50)
                        .expect("steps"),
                ),
            ],
            1,
        )
        .expect("suite");
        let out = suite.perturb(&model, &batch, &mut rng()).expect("suite");
        for (i, &y) in labels.iter().enumerate() {
            let robust = exact[i] && clean[i] == y;
            let survived = out.predictions[i] == y;
            // No attack can break an exactly robust example; a strong one
            // breaks every other.
            assert_eq!(survived, robust, "ε {eps}, example {i}");
        }
        let fgsm = GradientAttack::fgsm(eps as f64)
            .expect("fgsm")
            .perturb(&model, &batch, &mut rng())
            .expect("fgsm");
        assert!(
            out.correct(&labels) <= fgsm.correct(&labels),
            "ε {eps}: APGD weaker than FGSM"
        );
    }
}

#[test]
fn an_unbroken_example_is_returned_at_a_point_no_worse_than_its_start() {
    let model = Linear::random(4, 25, 21, false);
    let (x, y) = images(40, 1, 5, 5, 4, 22);
    let labels: Vec<u32> = y.to_vec1().expect("y");
    let eps = 0.03;
    let seed = 5;
    let attack = Apgd::ce(eps)
        .expect("ce")
        .with_steps(20)
        .expect("steps")
        .with_seed(seed);
    let out = attack
        .perturb(&model, &Batch::new(&x, &y).expect("batch"), &mut rng())
        .expect("apgd");
    // The start: x + ε·t/‖t‖∞, t uniform in [−1, 1] from the example's generator.
    let xs = host(&x);
    let mut start = Vec::new();
    for i in 0..40 {
        let mut r = example_rng(seed, i as u64);
        let t: Vec<f32> = (0..25)
            .map(|_| r.random_range(-1.0f64..=1.0) as f32)
            .collect();
        let norm = t.iter().fold(0f32, |m, v| m.max(v.abs())) + 1e-12;
        start.extend((0..25).map(|p| (xs[i * 25 + p] + eps as f32 * t[p] / norm).clamp(0.0, 1.0)));
    }
    let start = Tensor::from_vec(start, (40, 1, 5, 5), &Device::Cpu).expect("start");
    let ce = |t: &Tensor| -> Vec<f32> {
        let z = model.logits(t, &mut rng()).expect("z");
        cross_entropy_per_example(&z, &y)
            .expect("ce")
            .to_vec1()
            .expect("v")
    };
    let (at_start, at_end) = (ce(&start), ce(&out.adversarial));
    let mut unbroken = 0;
    for i in 0..40 {
        if out.predictions[i] == labels[i] {
            unbroken += 1;
            assert!(
                at_end[i] >= at_start[i],
                "example {i}: {} < {}",
                at_end[i],
                at_start[i]
            );
        }
    }
    assert!(
        unbroken > 0,
        "the test needs examples the attack does not break"
    );
}

#[test]
fn apgd_is_repeatable_and_batch_independent_on_a_deterministic_model() {
    let model = Linear::random(4, 32, 31, false);
    let (x, y) = images(10, 2, 4, 4, 4, 32);
    for attack in [
        Apgd::ce(0.1)
            .expect("ce")
            .with_steps(10)
            .expect("s")
            .with_restarts(2)
            .expect("r"),
        Apgd::dlr(0.1).expect("dlr").with_steps(10).expect("s"),
        Apgd::targeted(0.1, 3)
            .expect("t")
            .with_steps(10)
            .expect("s"),
    ] {
        let whole = attack
            .perturb(&model, &Batch::new(&x, &y).expect("b"), &mut rng())
            .expect("whole");
        let again = attack
            .perturb(&model, &Batch::new(&x, &y).expect("b"), &mut rng())
            .expect("again");
        assert_eq!(
            host(&whole.adversarial),
            host(&again.adversarial),
            "{}",
            attack.name()
        );
        let (xa, ya) = (x.narrow(0, 0, 4).expect("a"), y.narrow(0, 0, 4).expect("a"));
        let (xb, yb) = (x.narrow(0, 4, 6).expect("b"), y.narrow(0, 4, 6).expect("b"));
        let a = attack
            .perturb(&model, &Batch::new(&xa, &ya).expect("a"), &mut rng())
            .expect("a");
        let b = attack
            .perturb(
                &model,
                &Batch::new(&xb, &yb).expect("b").starting_at(4),
                &mut rng(),
            )
            .expect("b");
        let split = [host(&a.adversarial), host(&b.adversarial)].concat();
        assert_eq!(
            split,
            host(&whole.adversarial),
            "{}: split batch differs",
            attack.name()
        );
    }
}

#[test]
fn the_suite_is_the_per_image_worst_case_and_attacks_only_what_survives() {
    let model = Linear::random(4, 36, 41, false);
    let (x, y) = images(50, 1, 6, 6, 4, 42);
    let labels: Vec<u32> = y.to_vec1().expect("y");
    let batch = Batch::new(&x, &y).expect("batch");
    let eps = 0.04;
    let fgsm = GradientAttack::fgsm(eps).expect("fgsm");
    let square = sgbn_attacks::SquareAttack::new(sgbn_attacks::SquareAttackConfig {
        queries: 30,
        ..sgbn_attacks::SquareAttackConfig::new(eps)
    })
    .expect("square");
    let alone_fgsm = fgsm.perturb(&model, &batch, &mut rng()).expect("fgsm");
    let alone_square = square.perturb(&model, &batch, &mut rng()).expect("square");
    let suite = AttackSuite::new(
        "fgsm+square",
        eps,
        vec![Box::new(fgsm), Box::new(square)],
        1,
    )
    .expect("suite");
    let counting = Counting {
        inner: &model,
        rows: std::cell::Cell::new(0),
    };
    let out = suite.run(&counting, &batch, &mut rng()).expect("suite");
    let clean: Vec<u32> = model
        .logits(&x, &mut rng())
        .expect("z")
        .argmax(1)
        .expect("a")
        .to_vec1()
        .expect("v");
    let mut both = 0;
    for i in 0..50 {
        let robust = clean[i] == labels[i]
            && alone_fgsm.predictions[i] == labels[i]
            && alone_square.predictions[i] == labels[i];
        assert_eq!(
            out.perturbed.predictions[i] == labels[i],
            robust,
            "example {i}"
        );
        both += usize::from(robust);
    }
    assert_eq!(out.robust_after.last().expect("stages").1, both);
    let after_fgsm = out.robust_after[0].1;
    assert!(
        after_fgsm < out.clean_robust,
        "FGSM broke nothing: the test shows nothing"
    );
    // Square ran on the `after_fgsm` images FGSM left, not on all 50: its
    // rows are at most queries × survivors (+ the judging passes).
    let square_rows = counting.rows.get();
    assert!(
        square_rows <= 50 * 3 + 30 * after_fgsm + 2 * 50,
        "{square_rows} rows"
    );
    let _ = AttackSuite::autoattack(SuiteVersion::Rand, 0.3, 0).expect("rand builds");
    assert!(AttackSuite::new("empty", 0.1, Vec::new(), 1).is_err());
}

#[test]
fn autoattacks_rule_returns_unbroken_images_clean_and_agrees_on_a_deterministic_model() {
    let model = Linear::random(4, 25, 61, false);
    let (x, y) = images(30, 1, 5, 5, 4, 62);
    let labels: Vec<u32> = y.to_vec1().expect("y");
    let batch = Batch::new(&x, &y).expect("batch");
    let ours = Apgd::ce(0.03).expect("ce").with_steps(15).expect("steps");
    let theirs = Apgd::new(sgbn_attacks::ApgdConfig {
        autoattack_rule: true,
        ..ours.config().clone()
    })
    .expect("rule");
    assert!(theirs.name().contains("autoattack rule"));
    let a = ours.perturb(&model, &batch, &mut rng()).expect("ours");
    let b = theirs.perturb(&model, &batch, &mut rng()).expect("theirs");
    assert_eq!(
        a.predictions, b.predictions,
        "the rules differ on a deterministic model"
    );
    let (xs, bs) = (host(&x), host(&b.adversarial));
    let mut unbroken = 0;
    for i in 0..30 {
        if b.predictions[i] == labels[i] {
            unbroken += 1;
            assert_eq!(
                &bs[i * 25..(i + 1) * 25],
                &xs[i * 25..(i + 1) * 25],
                "image {i} not clean"
            );
        }
    }
    assert!(unbroken > 0, "the test needs unbroken images");
}
