//! Every parameter meant to get a gradient gets one, through every estimator;
//! and the coverage check does catch the silent `None` of candle.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use sgbn_estimators::{
    BinaryEstimator, EstimatorError, GradientCoverage, ReinforceBaseline, ReinforceBaselineConfig,
    ReinforceSample, SeededRng,
};

fn var(shape: (usize, usize), seed: u64) -> Var {
    let mut rng = SeededRng::seed_from_u64(seed);
    let u = sgbn_estimators::uniform_like(
        &Tensor::zeros(shape, DType::F32, &Device::Cpu).expect("zeros"),
        &mut rng,
    )
    .expect("uniform");
    Var::from_tensor(&((u - 0.5).expect("centre") * 2.0).expect("scale")).expect("var")
}

#[test]
fn every_estimator_lets_gradients_reach_the_layer_below() {
    let x = var((8, 5), 1).as_tensor().detach();
    for est in [
        BinaryEstimator::HardSte,
        BinaryEstimator::SoftSte,
        BinaryEstimator::Deterministic,
        BinaryEstimator::Sigmoid,
        BinaryEstimator::Sign,
        BinaryEstimator::StochasticSign,
    ] {
        let (w1, w2) = (var((5, 4), 2), var((4, 3), 3));
        let mut rng = SeededRng::seed_from_u64(4);
        let h = est
            .apply(&x.matmul(w1.as_tensor()).expect("mm"), 2.0, &mut rng)
            .expect("apply");
        let loss = h
            .matmul(w2.as_tensor())
            .expect("mm")
            .sqr()
            .expect("sq")
            .sum_all()
            .expect("sum");
        let grads = loss.backward().expect("backward");
        let report =
            GradientCoverage::check([("w1", w1.as_tensor()), ("w2", w2.as_tensor())], &grads)
                .expect("check");
        report
            .ensure_complete()
            .unwrap_or_else(|e| panic!("{est:?}: {e}"));
        assert!(report.all_zero.is_empty(), "{est:?}: {report:?}");
    }
}

#[test]
fn reinforce_surrogate_reaches_the_layer_below() {
    let x = var((8, 5), 1).as_tensor().detach();
    let (w1, w2) = (var((5, 4), 2), var((4, 3), 3));
    let mut rng = SeededRng::seed_from_u64(4);
    let sample =
        ReinforceSample::draw(&x.matmul(w1.as_tensor()).expect("mm"), &mut rng).expect("draw");
    let per_example = sample
        .h
        .matmul(w2.as_tensor())
        .expect("mm")
        .sqr()
        .expect("sq")
        .sum(1)
        .expect("sum");
    let mut baseline = ReinforceBaseline::new(ReinforceBaselineConfig::default()).expect("new");
    let surrogate = baseline
        .surrogate_loss(&sample, &per_example)
        .expect("surrogate");
    let loss = (per_example.mean_all().expect("mean") + surrogate).expect("total");
    let grads = loss.backward().expect("backward");
    GradientCoverage::check([("w1", w1.as_tensor()), ("w2", w2.as_tensor())], &grads)
        .expect("check")
        .ensure_complete()
        .expect("both layers get a gradient");
}

/// The check can fail: a path through plain `sign` gives no gradient at all.
#[test]
fn coverage_reports_parameters_cut_off_by_sign() {
    let x = var((8, 5), 1).as_tensor().detach();
    let (w1, w2) = (var((5, 4), 2), var((4, 3), 3));
    let h = x.matmul(w1.as_tensor()).expect("mm").sign().expect("sign");
    let loss = h
        .matmul(w2.as_tensor())
        .expect("mm")
        .sum_all()
        .expect("sum");
    let grads = loss.backward().expect("backward");
    let report = GradientCoverage::check([("w1", w1.as_tensor()), ("w2", w2.as_tensor())], &grads)
        .expect("check");
    assert_eq!(report.missing, vec!["w1".to_string()]);
    assert!(matches!(
        report.ensure_complete(),
        Err(EstimatorError::IncompleteGradients { .. })
    ));
}

#[test]
fn coverage_reports_non_finite_and_zero_gradients() {
    let (w1, w2) = (var((2, 2), 2), var((2, 2), 3));
    let loss = ((w1.as_tensor().sum_all().expect("s") * f64::INFINITY).expect("inf")
        + (w2.as_tensor() * Tensor::zeros((2, 2), DType::F32, &Device::Cpu).expect("z"))
            .expect("zero")
            .sum_all()
            .expect("s"))
    .expect("loss");
    let grads = loss.backward().expect("backward");
    let report = GradientCoverage::check([("w1", w1.as_tensor()), ("w2", w2.as_tensor())], &grads)
        .expect("check");
    assert_eq!(report.non_finite, vec!["w1".to_string()]);
    assert_eq!(report.all_zero, vec!["w2".to_string()]);
    assert!(report.ensure_complete().is_err());
}
