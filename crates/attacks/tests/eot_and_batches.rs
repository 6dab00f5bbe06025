//! Expectation over transformation, and batch independence.

mod common;

use common::{Linear, host, images};
use rand::SeedableRng;
use sgbn_attacks::{
    Attack, Batch, EvalClassifier, Goal, GradientAttack, SquareAttack, SquareAttackConfig, Victim,
    attack_dataset, loss_gradient,
};
use sgbn_estimators::SeededRng;
use sgbn_models::{ConvNet, ModelSpec};

#[test]
fn eot_with_one_sample_is_the_plain_gradient() {
    let model = Linear::random(4, 25, 1, true);
    let (x, y) = images(3, 1, 5, 5, 4, 2);
    let plain = loss_gradient(&model, &x, &y, 1, &mut SeededRng::seed_from_u64(7)).expect("plain");
    // The plain gradient by hand: one pass, backward.
    let xv = candle_core::Var::from_tensor(&x).expect("var");
    let z = model
        .logits(xv.as_tensor(), &mut SeededRng::seed_from_u64(7))
        .expect("z");
    let loss = sgbn_attacks::cross_entropy_per_example(&z, &y)
        .expect("ce")
        .sum_all()
        .expect("sum");
    let by_hand = loss
        .backward()
        .expect("backward")
        .get(xv.as_tensor())
        .expect("grad")
        .clone();
    assert_eq!(host(&plain), host(&by_hand));
}

#[test]
fn eot_averages_independent_draws_of_the_model_randomness() {
    let model = Linear::random(4, 25, 1, true);
    let (x, y) = images(3, 1, 5, 5, 4, 2);
    let k = 5;
    let mut rng = SeededRng::seed_from_u64(11);
    let eot = loss_gradient(&model, &x, &y, k, &mut rng).expect("eot");
    let mut rng = SeededRng::seed_from_u64(11);
    let mut mean = vec![0f64; 75];
    for _ in 0..k {
        let g = loss_gradient(&model, &x, &y, 1, &mut rng).expect("one draw");
        for (m, v) in mean.iter_mut().zip(host(&g)) {
            *m += v as f64 / k as f64;
        }
    }
    for (a, b) in host(&eot).iter().zip(&mean) {
        assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
    }
    // And the draws differ: the model really is stochastic.
    let mut rng = SeededRng::seed_from_u64(11);
    let g1 = host(&loss_gradient(&model, &x, &y, 1, &mut rng).expect("g1"));
    let g2 = host(&loss_gradient(&model, &x, &y, 1, &mut rng).expect("g2"));
    assert_ne!(g1, g2);
}

#[test]
fn eot_changes_nothing_on_a_deterministic_model() {
    let model = Linear::random(4, 36, 3, false);
    let (x, y) = images(5, 1, 6, 6, 4, 4);
    let g1 = host(&loss_gradient(&model, &x, &y, 1, &mut SeededRng::seed_from_u64(0)).expect("g1"));
    let g8 = host(&loss_gradient(&model, &x, &y, 8, &mut SeededRng::seed_from_u64(0)).expect("g8"));
    for (a, b) in g1.iter().zip(&g8) {
        assert!((a - b).abs() <= 1e-6 * (1.0 + a.abs()), "{a} vs {b}");
    }
    let batch = Batch::new(&x, &y).expect("batch");
    for eot in [2, 4] {
        let plain = GradientAttack::pgd(0.1, 0.02, 5).expect("pgd");
        let with = plain.clone().with_eot(eot).expect("eot");
        let a = plain
            .perturb(&model, &batch, &mut SeededRng::seed_from_u64(0))
            .expect("plain");
        let b = with
            .perturb(&model, &batch, &mut SeededRng::seed_from_u64(0))
            .expect("eot");
        assert_eq!(host(&a.adversarial), host(&b.adversarial));
        assert_eq!(b.forward_passes, vec![5 * eot; 5]);
    }
}

fn every_attack() -> Vec<Box<dyn Attack>> {
    vec![
        Box::new(GradientAttack::fgsm(0.2).expect("fgsm")),
        Box::new(GradientAttack::bim(0.2, 0.05, 4).expect("bim")),
        Box::new(GradientAttack::ill(0.2, 0.05, 4).expect("ill")),
        Box::new(GradientAttack::pgd(0.2, 0.05, 4).expect("pgd").with_seed(3)),
        Box::new(
            GradientAttack::pgd(0.2, 0.05, 2)
                .expect("pgd")
                .with_goal(Goal::RandomTarget)
                .with_seed(5),
        ),
        Box::new(
            SquareAttack::new(SquareAttackConfig {
                queries: 30,
                seed: 9,
                ..SquareAttackConfig::new(0.2)
            })
            .expect("square"),
        ),
    ]
}

fn assert_batch_independent(victim: &dyn Victim, x: &candle_core::Tensor, y: &candle_core::Tensor) {
    let n = y.dim(0).expect("n");
    for attack in every_attack() {
        let whole = attack
            .perturb(
                victim,
                &Batch::new(x, y).expect("batch"),
                &mut SeededRng::seed_from_u64(0),
            )
            .expect("batch");
        for i in 0..n {
            let xi = x.narrow(0, i, 1).expect("xi");
            let yi = y.narrow(0, i, 1).expect("yi");
            let alone = attack
                .perturb(
                    victim,
                    &Batch::new(&xi, &yi).expect("one").starting_at(i as u64),
                    &mut SeededRng::seed_from_u64(0),
                )
                .expect("alone");
            let mine = whole.adversarial.narrow(0, i, 1).expect("row");
            let d = common::max_abs_diff(&mine, &alone.adversarial);
            assert!(
                d <= 1e-6,
                "{}: example {i} differs alone by {d}",
                attack.name()
            );
            assert_eq!(
                alone.predictions[0],
                whole.predictions[i],
                "{}",
                attack.name()
            );
            assert_eq!(
                alone.forward_passes[0],
                whole.forward_passes[i],
                "{}",
                attack.name()
            );
        }
        // And in batches of 2 through `attack_dataset`.
        let chunked = attack_dataset(
            attack.as_ref(),
            victim,
            x,
            y,
            2,
            &mut SeededRng::seed_from_u64(0),
        )
        .expect("dataset");
        assert!(
            common::max_abs_diff(&chunked.adversarial, &whole.adversarial) <= 1e-6,
            "{}",
            attack.name()
        );
    }
}

#[test]
fn a_batch_gives_what_each_example_gives_alone_linear() {
    let model = Linear::random(5, 2 * 6 * 6, 21, false);
    let (x, y) = images(5, 2, 6, 6, 5, 22);
    assert_batch_independent(&model, &x, &y);
}

#[test]
fn a_batch_gives_what_each_example_gives_alone_cnn() {
    let spec = ModelSpec::named("cnn").expect("cnn");
    let net = ConvNet::new(&spec, 4, &candle_core::Device::Cpu).expect("net");
    let victim = EvalClassifier::new(&net, 1.0);
    let (x, y) = images(4, 1, 28, 28, 10, 23);
    assert_batch_independent(&victim, &x, &y);
}
