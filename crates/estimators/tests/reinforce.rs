//! REINFORCE with the variance-minimizing baseline (thesis eq. 2.14–2.16),
//! checked against a problem whose expected loss has a closed form.
//!
//! One unit with pre-activation `a`; each example draws `h ~ Bernoulli(σ(a))`
//! and pays `L(h) = L0 + (L1 − L0)·h`. Then
//! `E[L] = L0 + σ(a)(L1 − L0)` and `dE[L]/da = σ(a)(1 − σ(a))(L1 − L0)`.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{config, sigmoid, values};
use proptest::prelude::*;
use rand::SeedableRng;
use sgbn_estimators::{
    EstimatorError, ReinforceBaseline, ReinforceBaselineConfig, ReinforceSample, SeededRng,
};

const L0: f64 = 2.0;
const L1: f64 = 3.0;

struct Run {
    /// Gradient of the surrogate with respect to `a`, one per batch.
    batch_gradients: Vec<f64>,
    /// Every per-example estimate (h − σ)(L − L̄) used.
    estimates: Vec<f64>,
    baseline: ReinforceBaseline,
}

fn run(a: f64, use_baseline: bool, warmup: usize, batches: usize, batch: usize, seed: u64) -> Run {
    let var = Var::from_tensor(&Tensor::new(&[a], &Device::Cpu).expect("a")).expect("var");
    let mut baseline = ReinforceBaseline::new(ReinforceBaselineConfig {
        use_baseline,
        ..Default::default()
    })
    .expect("baseline");
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut batch_gradients = Vec::new();
    let mut estimates = Vec::new();
    for step in 0..warmup + batches {
        let pre = var.as_tensor().broadcast_as((batch, 1)).expect("broadcast");
        let sample = ReinforceSample::draw(&pre, &mut rng).expect("draw");
        let loss = ((sample.h.squeeze(1).expect("squeeze") * (L1 - L0)).expect("scale") + L0)
            .expect("loss");
        if step < warmup {
            baseline.update(&sample, &loss).expect("update");
            continue;
        }
        estimates.extend(values(
            &baseline
                .per_example_estimate(&sample, &loss)
                .expect("estimate"),
        ));
        let surrogate = baseline.surrogate_loss(&sample, &loss).expect("surrogate");
        let grads = surrogate.backward().expect("backward");
        batch_gradients.push(values(grads.get(var.as_tensor()).expect("gradient"))[0]);
    }
    Run {
        batch_gradients,
        estimates,
        baseline,
    }
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

proptest! {
    #![proptest_config(config(24))]

    /// The mean REINFORCE estimate lies within 5 standard errors (from its
    /// own sample variance) of the exact gradient, with and without baseline;
    /// and the surrogate's gradient is the batch mean of the estimates.
    #[test]
    fn estimate_is_unbiased(a in -3.0f64..3.0, use_baseline in any::<bool>(),
                            seed in any::<u64>()) {
        let (batches, batch) = (40, 500);
        let r = run(a, use_baseline, 20, batches, batch, seed);
        let s = sigmoid(a);
        let exact = s * (1.0 - s) * (L1 - L0);
        let (mean, var) = mean_var(&r.estimates);
        let n = r.estimates.len() as f64;
        let tol = 5.0 * (var / n).sqrt();
        prop_assert!((mean - exact).abs() <= tol,
            "mean estimate {mean} vs exact {exact} (tol {tol})");
        for (k, g) in r.batch_gradients.iter().enumerate() {
            let chunk = &r.estimates[k * batch..(k + 1) * batch];
            let batch_mean = chunk.iter().sum::<f64>() / batch as f64;
            prop_assert!((g - batch_mean).abs() <= 1e-9 * (1.0 + batch_mean.abs()));
        }
    }

    /// The baseline lowers the variance of the estimate, and converges to
    /// the closed form E[(h−σ)²L]/E[(h−σ)²] = (1−σ)·L1 + σ·L0 (eq. 2.15),
    /// as the moving averages predict after their initial values decay.
    #[test]
    fn baseline_lowers_variance(a in -2.0f64..2.0, seed in any::<u64>()) {
        let with = run(a, true, 180, 20, 500, seed);
        let without = run(a, false, 180, 20, 500, seed);
        let (_, var_with) = mean_var(&with.estimates);
        let (_, var_without) = mean_var(&without.estimates);
        prop_assert!(var_with < var_without,
            "variance with baseline {var_with} vs without {var_without}");

        // Expected moving averages after T updates from num = 0, den = 1:
        // num_T = (1 − d^T)·E[(h−σ)²L], den_T = d^T + (1 − d^T)·E[(h−σ)²],
        // with E[(h−σ)²] = σ(1−σ) and E[(h−σ)²L] = σ(1−σ)·((1−σ)L1 + σL0).
        let (d, t, batch) = (0.95f64, 200, 500.0);
        let s = sigmoid(a);
        let var_h = s * (1.0 - s);
        let closed_form = (1.0 - s) * L1 + s * L0;
        let w = d.powi(t);
        let den = w + (1.0 - w) * var_h;
        let expected = (1.0 - w) * var_h * closed_form / (den + 1e-4);
        // Noise: an EMA of batch means averages about B·(1+d)/(1−d) examples;
        // each numerator term (h−σ)²L lies in [0, L1], each denominator term
        // in [0, 1]: 5 standard errors of the ratio are at most
        // 5·(L1 + expected)/sqrt(N_eff)/den.
        let n_eff = batch * (1.0 + d) / (1.0 - d);
        let tol = 5.0 * (L1 + expected) / n_eff.sqrt() / den;
        let baseline = values(&with.baseline.baseline().expect("b").expect("some"))[0];
        prop_assert!((baseline - expected).abs() <= tol,
            "baseline {baseline} vs expected {expected} (tol {tol})");
        // And the estimator's target, eq. 2.15, is what it tends to.
        prop_assert!((expected - closed_form).abs() <= 5e-3 * closed_form);
    }
}

#[test]
fn same_seed_same_estimates() {
    let first = run(0.3, true, 5, 5, 64, 7);
    let second = run(0.3, true, 5, 5, 64, 7);
    assert_eq!(first.estimates, second.estimates);
    assert_eq!(first.batch_gradients, second.batch_gradients);
}

#[test]
fn no_baseline_before_first_update_and_without_baseline() {
    let fresh = ReinforceBaseline::new(ReinforceBaselineConfig::default()).expect("new");
    assert!(fresh.baseline().expect("baseline").is_none());
    let plain = run(0.0, false, 3, 1, 16, 1);
    assert!(plain.baseline.baseline().expect("baseline").is_none());
}

#[test]
fn bad_inputs_are_errors() {
    let mut rng = SeededRng::seed_from_u64(3);
    let a = Tensor::zeros((4, 3), DType::F32, &Device::Cpu).expect("a");
    let sample = ReinforceSample::draw(&a, &mut rng).expect("draw");
    let mut b = ReinforceBaseline::new(ReinforceBaselineConfig::default()).expect("new");

    let wrong = Tensor::zeros(5, DType::F32, &Device::Cpu).expect("loss");
    assert!(matches!(
        b.surrogate_loss(&sample, &wrong),
        Err(EstimatorError::LossShape { batch: 4, .. })
    ));
    let nan = Tensor::new(&[1.0f32, f32::NAN, 0.0, 0.0], &Device::Cpu).expect("loss");
    assert!(matches!(
        b.surrogate_loss(&sample, &nan),
        Err(EstimatorError::NonFiniteLoss(_))
    ));

    let ok = Tensor::zeros(4, DType::F32, &Device::Cpu).expect("loss");
    b.update(&sample, &ok).expect("update");
    let other = ReinforceSample::draw(
        &Tensor::zeros((4, 7), DType::F32, &Device::Cpu).expect("a"),
        &mut rng,
    )
    .expect("draw");
    assert!(matches!(
        b.update(&other, &ok),
        Err(EstimatorError::BaselineShape {
            expected: 3,
            found: 7
        })
    ));

    for decay in [1.0, -0.1, f64::NAN] {
        let config = ReinforceBaselineConfig {
            decay,
            ..Default::default()
        };
        assert!(ReinforceBaseline::new(config).is_err(), "{decay}");
    }
    let scalar = Tensor::new(0.0f32, &Device::Cpu).expect("scalar");
    assert!(ReinforceSample::draw(&scalar, &mut rng).is_err());
}

#[test]
fn extreme_pre_activations_stay_finite() {
    let mut rng = SeededRng::seed_from_u64(9);
    let var = Var::from_tensor(&Tensor::new(&[[1.0e4f32, -1.0e4, 0.0]], &Device::Cpu).expect("a"))
        .expect("var");
    let mut b = ReinforceBaseline::new(ReinforceBaselineConfig::default()).expect("new");
    let sample = ReinforceSample::draw(var.as_tensor(), &mut rng).expect("draw");
    let loss = Tensor::new(&[1.5f32], &Device::Cpu).expect("loss");
    let grads = b
        .surrogate_loss(&sample, &loss)
        .expect("surrogate")
        .backward()
        .expect("bwd");
    let g = values(grads.get(var.as_tensor()).expect("grad"));
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
    assert_eq!(values(&sample.h)[..2], [1.0, 0.0]);
}
