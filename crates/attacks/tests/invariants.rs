//! Properties every attack keeps, for random shapes, budgets and models.

mod common;

use common::{Linear, host, images, max_abs_diff};
use proptest::prelude::*;
use rand::SeedableRng;
use sgbn_attacks::{
    Apgd, Attack, AttackSuite, Batch, Goal, GradientAttack, SquareAttack, SquareAttackConfig,
    Victim,
};
use sgbn_estimators::SeededRng;

fn attacks(eps: f64, seed: u64) -> Vec<Box<dyn Attack>> {
    let step = eps / 4.0;
    let mut v: Vec<Box<dyn Attack>> = vec![Box::new(GradientAttack::fgsm(eps).expect("fgsm"))];
    if eps > 0.0 {
        v.push(Box::new(GradientAttack::bim(eps, step, 5).expect("bim")));
        v.push(Box::new(GradientAttack::ill(eps, step, 5).expect("ill")));
        v.push(Box::new(
            GradientAttack::pgd(eps, step, 5)
                .expect("pgd")
                .with_seed(seed),
        ));
        v.push(Box::new(
            GradientAttack::pgd(eps, step, 3)
                .expect("pgd")
                .with_goal(Goal::RandomTarget)
                .with_eot(3)
                .expect("eot")
                .with_seed(seed),
        ));
    }
    v.push(Box::new(
        SquareAttack::new(SquareAttackConfig {
            queries: 20,
            seed,
            ..SquareAttackConfig::new(eps)
        })
        .expect("square"),
    ));
    let apgd = |a: Apgd| a.with_steps(6).expect("steps").with_seed(seed);
    v.push(Box::new(
        apgd(Apgd::ce(eps).expect("ce")).with_eot(2).expect("eot"),
    ));
    v.push(Box::new(
        apgd(Apgd::dlr(eps).expect("dlr"))
            .with_restarts(2)
            .expect("restarts"),
    ));
    v.push(Box::new(apgd(Apgd::targeted(eps, 3).expect("t"))));
    v.push(Box::new(
        AttackSuite::new(
            "suite",
            eps,
            vec![
                Box::new(GradientAttack::fgsm(eps).expect("fgsm")),
                Box::new(apgd(Apgd::ce(eps).expect("ce"))),
            ],
            3,
        )
        .expect("suite"),
    ));
    v
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_attack_stays_in_the_ball_and_the_pixel_range(
        n in 1usize..5, c in 1usize..3, h in 2usize..7, w in 2usize..7,
        eps_index in 0usize..5, stochastic: bool, seed in 0u64..1000,
    ) {
        let eps = [0.0, 0.01, 0.1, 0.3, 1.0][eps_index];
        let model = Linear::random(4, c * h * w, seed, stochastic);
        let (x, y) = images(n, c, h, w, 4, seed + 1);
        let before = host(&x);
        for attack in attacks(eps, seed) {
            let batch = Batch::new(&x, &y).expect("batch");
            let mut rng = SeededRng::seed_from_u64(seed);
            let out = attack.perturb(&model, &batch, &mut rng).expect("attack");
            let adv = &out.adversarial;
            prop_assert_eq!(adv.dims(), x.dims(), "{}", attack.name());
            prop_assert!(max_abs_diff(adv, &x) <= eps as f32 + 1e-6, "{}: moved {} > ε {}", attack.name(), max_abs_diff(adv, &x), eps);
            prop_assert!(host(adv).iter().all(|v| (0.0..=1.0).contains(v)), "{} left [0, 1]", attack.name());
            if eps == 0.0 {
                prop_assert_eq!(host(adv), before.clone(), "{}: ε = 0 must return x", attack.name());
            }
            prop_assert_eq!(host(&x), before.clone(), "{} modified its input", attack.name());
            prop_assert_eq!(out.predictions.len(), n);
            prop_assert_eq!(out.success.len(), n);
            prop_assert!(model.is_stochastic() == stochastic);
        }
    }
}

#[test]
fn the_literal_bim_may_leave_the_ball_but_not_the_pixel_range() {
    let model = Linear::random(3, 16, 7, false);
    let (x, y) = images(4, 1, 4, 4, 3, 8);
    let eps = 0.05;
    let attack = GradientAttack::bim(eps, eps, 10).expect("bim").literal();
    let out = attack
        .perturb(
            &model,
            &Batch::new(&x, &y).expect("batch"),
            &mut SeededRng::seed_from_u64(0),
        )
        .expect("attack");
    let moved = max_abs_diff(&out.adversarial, &x);
    assert!(
        moved > eps as f32 + 1e-3,
        "10 unprojected steps of ε moved only {moved}"
    );
    assert!(moved <= 10.0 * eps as f32 + 1e-5);
    assert!(
        host(&out.adversarial)
            .iter()
            .all(|v| (0.0..=1.0).contains(v))
    );
}
