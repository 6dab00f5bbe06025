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
        let attack = SquareAttack::new(SquareAttackConfig {
            queries,
            eot_samples: eot,
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
