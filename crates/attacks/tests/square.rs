//! The Square attack: monotone objective, query budget, success.

mod common;

use std::cell::Cell;

use common::{Counting, Linear, images};
use rand::SeedableRng;
use sgbn_attacks::{Batch, Goal, SquareAttack, SquareAttackConfig, Victim, margins};
use sgbn_estimators::SeededRng;

fn square(eps: f64, queries: usize, goal: Goal) -> SquareAttack {
    SquareAttack::new(SquareAttackConfig {
        eps,
        queries,
        goal,
        seed: 17,
        ..SquareAttackConfig::new(eps)
    })
    .expect("square")
}

#[test]
fn the_margin_it_minimises_never_rises_and_is_the_margin_of_its_output() {
    let model = Linear::random(6, 3 * 8 * 8, 31, false);
    let (x, _) = images(12, 3, 8, 8, 6, 32);
    // Label each image with the model's own prediction: every example starts
    // correctly classified.
    let y = model
        .logits(&x, &mut SeededRng::seed_from_u64(0))
        .and_then(|z| Ok(z.argmax(1)?))
        .expect("predictions");
    let labels: Vec<u32> = y.to_vec1().expect("y");
    let clean = margins(
        &model
            .logits(&x, &mut SeededRng::seed_from_u64(0))
            .expect("z"),
        &labels,
    )
    .expect("margins");
    for goal in [Goal::Untargeted, Goal::Class(0)] {
        let out = square(0.1, 200, goal)
            .run(
                &model,
                &Batch::new(&x, &y).expect("batch"),
                &mut SeededRng::seed_from_u64(0),
            )
            .expect("square");
        let aim = out
            .perturbed
            .targets
            .clone()
            .unwrap_or_else(|| labels.clone());
        let sign = if goal == Goal::Untargeted { 1.0 } else { -1.0 };
        let end = margins(
            &model
                .logits(&out.perturbed.adversarial, &mut SeededRng::seed_from_u64(0))
                .expect("z"),
            &aim,
        )
        .expect("margins");
        let mut improved = 0;
        for (i, h) in out.best_objective.iter().enumerate() {
            assert!(
                h.windows(2).all(|w| w[1] <= w[0]),
                "{goal:?} example {i}: {h:?}"
            );
            let last = *h.last().expect("at least the initial query");
            assert!(
                (last - sign * end[i]).abs() <= 1e-4 * (1.0 + last.abs()),
                "{last} vs {}",
                end[i]
            );
            // It stops as soon as it succeeds, and only then before the budget.
            if h.len() < 200 {
                assert!(last <= 0.0, "example {i} stopped early without success");
            }
            if last < h[0] || last <= 0.0 {
                improved += 1;
            }
        }
        assert!(
            improved >= 6,
            "{goal:?}: only {improved} of 12 improved on their start or succeeded"
        );
        if goal == Goal::Untargeted {
            let fooled = out.perturbed.success.iter().filter(|s| **s).count();
            assert!(clean.iter().all(|m| *m > 0.0));
            assert!(fooled >= 6, "fooled only {fooled} of 12");
        }
    }
}

#[test]
fn it_respects_its_query_budget_and_counts_every_forward_pass() {
    let model = Linear::random(4, 2 * 6 * 6, 41, true);
    let (x, y) = images(7, 2, 6, 6, 4, 42);
    for (queries, eot) in [(1, 1), (15, 1), (40, 3)] {
        let counting = Counting {
            inner: &model,
            rows: Cell::new(0),
        };
        // No confirmation here: the budget is the queries' (confirmations
        // are counted on top, next test).
        let attack = SquareAttack::new(SquareAttackConfig {
            queries,
            eot_samples: eot,
            confirm_draws: 1,
            ..SquareAttackConfig::new(0.01)
        })
        .expect("square");
        let out = attack
            .run(
                &counting,
                &Batch::new(&x, &y).expect("batch"),
                &mut SeededRng::seed_from_u64(0),
            )
            .expect("square");
        let spent: usize = out.perturbed.forward_passes.iter().sum();
        assert!(
            out.perturbed
                .forward_passes
                .iter()
                .all(|&p| p <= queries * eot)
        );
        assert!(out.best_objective.iter().all(|h| h.len() <= queries));
        // Every pass the attack made, plus the one judging pass per example.
        assert_eq!(
            counting.rows.get(),
            spent + 7,
            "queries {queries}, eot {eot}"
        );
    }
}

/// Class 0 wins, except on a tenth of the draws, whatever the image: no
/// image can really be broken, but one draw in ten says it is.
#[derive(Debug)]
struct LuckyDraws;

/// Class 0's logits, or class 1's on a tenth of the draws.
fn lucky_logits(
    x: &candle_core::Tensor,
    rng: &mut SeededRng,
) -> candle_core::Result<candle_core::Tensor> {
    use rand::Rng;
    let b = x.dim(0)?;
    let rows: Vec<f32> = (0..b)
        .flat_map(|_| {
            if rng.random::<f32>() < 0.1 {
                [0.0, 1.0, 0.0, 0.0]
            } else {
                [1.0, 0.0, 0.0, 0.0]
            }
        })
        .collect();
    candle_core::Tensor::from_vec(rows, (b, 4), x.device())
}

impl Victim for LuckyDraws {
    fn logits(
        &self,
        x: &candle_core::Tensor,
        rng: &mut SeededRng,
    ) -> sgbn_attacks::Result<candle_core::Tensor> {
        Ok(lucky_logits(x, rng)?)
    }

    fn is_stochastic(&self) -> bool {
        true
    }

    fn num_classes(&self) -> usize {
        4
    }
}

#[test]
fn on_a_stochastic_victim_one_lucky_draw_no_longer_ends_the_search() {
    let (x, _) = images(20, 1, 6, 6, 4, 51);
    let y = candle_core::Tensor::zeros(20, candle_core::DType::U32, x.device()).expect("y");
    let queries = 50;
    let full_budget = |confirm_draws: usize| -> (usize, usize) {
        let attack = SquareAttack::new(SquareAttackConfig {
            queries,
            confirm_draws,
            ..SquareAttackConfig::new(0.1)
        })
        .expect("square");
        let out = attack
            .run(
                &LuckyDraws,
                &Batch::new(&x, &y).expect("batch"),
                &mut SeededRng::seed_from_u64(8),
            )
            .expect("square");
        let whole = out
            .best_objective
            .iter()
            .filter(|h| h.len() == queries)
            .count();
        (whole, out.perturbed.forward_passes.iter().sum())
    };
    // Without confirmation an image stops at its first lucky draw: it goes
    // all 50 queries with probability 0.9^50 ≈ 0.005 (P(≥ 3 of 20) < 1e-4).
    let (without, _) = full_budget(1);
    assert!(
        without <= 2,
        "{without} of 20 used the whole budget without confirmation"
    );
    // With 10 confirming draws, a stop needs ≥ 6 of them lucky
    // (P ≈ 1.5e-4 per confirmation, about 5 confirmations per image):
    // P(≥ 2 of 20 images stop) < 1e-4.
    let (with, passes) = full_budget(sgbn_attacks::SQUARE_CONFIRM_DRAWS);
    assert!(
        with >= 19,
        "only {with} of 20 used the whole budget with confirmation"
    );
    assert!(
        passes > 20 * queries,
        "the confirming passes are counted: {passes}"
    );
}

#[test]
fn a_victim_fn_declared_stochastic_gets_its_successes_confirmed() {
    let (x, _) = images(20, 1, 6, 6, 4, 52);
    let y = candle_core::Tensor::zeros(20, candle_core::DType::U32, x.device()).expect("y");
    let lucky = |x: &candle_core::Tensor, rng: &mut SeededRng| lucky_logits(x, rng);
    let whole_budget = |victim: &dyn Victim| {
        let out = SquareAttack::new(SquareAttackConfig {
            queries: 50,
            ..SquareAttackConfig::new(0.1)
        })
        .expect("square")
        .run(
            victim,
            &Batch::new(&x, &y).expect("batch"),
            &mut SeededRng::seed_from_u64(9),
        )
        .expect("square");
        out.best_objective.iter().filter(|h| h.len() == 50).count()
    };
    let undeclared = sgbn_attacks::victim_fn(4, lucky);
    assert!(!undeclared.is_stochastic());
    let declared = sgbn_attacks::victim_fn(4, lucky).stochastic();
    assert!(declared.is_stochastic());
    // The bounds of the test above: P(≥ 3 of 20 go the whole way
    // unconfirmed) and P(≥ 2 of 20 stop when confirmed) are below 1e-4.
    assert!(whole_budget(&undeclared) <= 2);
    assert!(whole_budget(&declared) >= 19);
}
