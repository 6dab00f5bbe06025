//! The per-image worst case over several evaluations of one model.

use sgbn_eval::{EvalResult, worst_case};
use sgbn_metrics::RepeatedAccuracy;

fn result(correct_passes: Vec<u16>, passes: usize) -> EvalResult {
    let n = correct_passes.len();
    let per_pass: Vec<Vec<u32>> = (0..passes)
        .map(|p| {
            correct_passes
                .iter()
                .map(|&c| u32::from((p as u16) >= c)) // right (0) on the first c passes
                .collect()
        })
        .collect();
    let truth = vec![0u32; n];
    EvalResult {
        accuracy: 0.0,
        total: n,
        repeated: (passes > 1)
            .then(|| RepeatedAccuracy::from_predictions(&per_pass, &truth, 10).expect("passes")),
        seconds: 0.0,
        cost: None,
        confidence: None,
        correct_passes: Some(correct_passes),
    }
}

#[test]
fn an_image_counts_only_if_it_survives_every_evaluation_by_a_majority() {
    // Five images, 4 passes each: image 0 survives both (4/4, 3/4); image 1
    // survives one only; image 2 is a tie in one (2 of 4 is no majority);
    // image 3 survives both; image 4 neither.
    let a = result(vec![4, 4, 2, 3, 0], 4);
    let b = result(vec![3, 1, 4, 4, 1], 4);
    let w = worst_case(&[&a, &b]).expect("worst case");
    assert_eq!(w.images, 5);
    assert!((w.robust - 2.0 / 5.0).abs() < 1e-12, "{w:?}");
    // The smallest share per image: 3/4, 1/4, 2/4, 3/4, 0.
    assert!((w.mean_over_passes - (0.75 + 0.25 + 0.5 + 0.75 + 0.0) / 5.0).abs() < 1e-12);
    // Alone, each keeps its own majorities.
    assert!((worst_case(&[&a]).expect("a").robust - 3.0 / 5.0).abs() < 1e-12);
}

#[test]
fn evaluations_on_fewer_images_limit_the_comparison_and_old_results_give_none() {
    // A deterministic evaluation (one pass) on the first 2 images only.
    let many = result(vec![4, 0, 4, 4], 4);
    let few = result(vec![0, 1], 1);
    let w = worst_case(&[&many, &few]).expect("worst case");
    assert_eq!(w.images, 2);
    assert_eq!(w.robust, 0.0);
    let mut old = result(vec![4, 4], 4);
    old.correct_passes = None;
    assert!(
        worst_case(&[&many, &old]).is_none(),
        "a result without per-image counts"
    );
    assert!(worst_case(&[]).is_none());
}

#[test]
fn evaluate_records_each_images_right_passes_consistently_with_its_accuracy() {
    use candle_core::{Device, Tensor};
    use rand::{Rng, SeedableRng};
    use sgbn_estimators::SeededRng;
    // A stochastic linear model: input dropout drawn from the caller's generator.
    let mut r = SeededRng::seed_from_u64(1);
    let w: Vec<f32> = (0..16 * 3).map(|_| r.random_range(-1.0..1.0)).collect();
    let w = Tensor::from_vec(w, (16, 3), &Device::Cpu).expect("w");
    let victim = sgbn_attacks::victim_fn(3, |x: &Tensor, rng: &mut SeededRng| {
        let flat = x.flatten_from(1)?;
        let (b, d) = flat.dims2()?;
        let keep: Vec<f32> = (0..b * d)
            .map(|_| if rng.random::<bool>() { 2.0 } else { 0.0 })
            .collect();
        (flat * Tensor::from_vec(keep, (b, d), x.device())?)?.matmul(&w)
    });
    let x: Vec<f32> = (0..40 * 16).map(|_| r.random_range(0.0..1.0)).collect();
    let x = Tensor::from_vec(x, (40, 1, 4, 4), &Device::Cpu).expect("x");
    let y: Vec<u32> = (0..40).map(|_| r.random_range(0..3)).collect();
    let y = Tensor::from_vec(y, 40, &Device::Cpu).expect("y");
    let config = sgbn_eval::EvalConfig {
        repeats: 5,
        ..sgbn_eval::EvalConfig::default()
    };
    let out = sgbn_eval::evaluate(
        &victim,
        &sgbn_eval::AttackSpec::fgsm(0.05),
        &config,
        &x,
        &y,
        &mut SeededRng::seed_from_u64(2),
    )
    .expect("evaluate");
    let counts = out.correct_passes.as_deref().expect("per-image counts");
    assert_eq!(counts.len(), 40);
    assert!(counts.iter().all(|&c| c <= 5));
    let mean = counts.iter().map(|&c| c as f64).sum::<f64>() / (40.0 * 5.0);
    assert!(
        (mean - out.headline()).abs() < 1e-12,
        "{mean} vs {}",
        out.headline()
    );
    let majority = counts.iter().filter(|&&c| c >= 3).count() as f64 / 40.0;
    let vote = out.repeated.as_ref().expect("repeated").majority_vote;
    // Right on ≥ 3 of 5 passes is a strict majority, which the vote always
    // follows; the vote can also be right by a plurality (2 of 5 against a
    // 2–1 split): so the strict-majority share is at most the vote's.
    assert!(
        majority <= vote + 1e-12,
        "majority {majority} > vote {vote}"
    );
    assert!(
        counts.iter().any(|&c| c > 0 && c < 5),
        "the model should be stochastic"
    );
}
