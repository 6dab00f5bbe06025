//! Property tests of the stateless binary estimators (thesis eq. 2.10–2.22).

mod common;

use candle_core::{DType, Var};
use common::{config, sigmoid, tensor, values};
use proptest::prelude::*;
use rand::SeedableRng;
use sgbn_estimators::{
    BinaryEstimator, SeededRng, bernoulli_hard_ste, bernoulli_hard_ste_reference,
    bernoulli_soft_ste, deterministic_binary, sigmoid_probability, sign_ste, stochastic_sign_ste,
};

const ALL: [BinaryEstimator; 6] = [
    BinaryEstimator::HardSte,
    BinaryEstimator::SoftSte,
    BinaryEstimator::Deterministic,
    BinaryEstimator::Sigmoid,
    BinaryEstimator::Sign,
    BinaryEstimator::StochasticSign,
];

fn pre_activations() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            4 => -8.0f64..8.0,
            1 => -1.0e4f64..1.0e4,
            1 => Just(0.0),
            1 => Just(1.0),
            1 => Just(-1.0),
        ],
        1..64,
    )
}

fn dtypes() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

/// Gradient of `sum(estimator(a) * g)` with respect to `a`, and the output.
fn forward_backward(
    est: BinaryEstimator,
    a: &[f64],
    g: &[f64],
    slope: f64,
    dtype: DType,
    seed: u64,
) -> (Vec<f64>, Vec<f64>) {
    let var = Var::from_tensor(&tensor(a, dtype)).expect("var");
    let mut rng = SeededRng::seed_from_u64(seed);
    let h = est.apply(var.as_tensor(), slope, &mut rng).expect("apply");
    let loss = (&h * tensor(g, dtype))
        .and_then(|t| t.sum_all())
        .expect("loss");
    let grads = loss.backward().expect("backward");
    let grad = grads.get(var.as_tensor()).expect("a gradient for a");
    (values(&h), values(grad))
}

proptest! {
    #![proptest_config(config(256))]

    /// Every binarizer's forward value lies exactly in its support.
    #[test]
    fn outputs_are_exactly_binary(a in pre_activations(), slope in 0.5f64..5.0,
                                  dtype in dtypes(), seed in any::<u64>()) {
        let g = vec![1.0; a.len()];
        for est in ALL {
            let (h, _) = forward_backward(est, &a, &g, slope, dtype, seed);
            match est.support() {
                Some(support) => {
                    for v in &h {
                        prop_assert!(support.contains(v), "{est:?} gave {v}");
                    }
                }
                None => {
                    for v in &h {
                        prop_assert!((0.0..=1.0).contains(v), "{est:?} gave {v}");
                    }
                }
            }
        }
    }

    /// Hard STE: the gradient is the upstream gradient, bit for bit.
    #[test]
    fn hard_ste_passes_gradient_unchanged(
        (a, g) in (1usize..64).prop_flat_map(|n| (
            prop::collection::vec(-20.0f64..20.0, n),
            prop::collection::vec(-10.0f64..10.0, n))),
        dtype in dtypes(), seed in any::<u64>())
    {
        let (_, grad) = forward_backward(BinaryEstimator::HardSte, &a, &g, 1.0, dtype, seed);
        let expected = values(&tensor(&g, dtype));
        prop_assert_eq!(grad, expected);
    }

    /// Soft STE and DBN: the gradient is `m·σ(ma)(1−σ(ma))·g` and agrees with
    /// a central finite difference of `σ(m·a)` (computed in f64).
    #[test]
    fn soft_ste_gradient_is_slope_times_sigmoid_derivative(
        (a, g) in (1usize..64).prop_flat_map(|n| (
            prop::collection::vec(-6.0f64..6.0, n),
            prop::collection::vec(-10.0f64..10.0, n))),
        slope in 0.5f64..5.0, seed in any::<u64>())
    {
        for est in [BinaryEstimator::SoftSte, BinaryEstimator::Deterministic,
                    BinaryEstimator::Sigmoid] {
            let (_, grad) = forward_backward(est, &a, &g, slope, DType::F64, seed);
            let delta = 1e-5;
            for i in 0..a.len() {
                let s = sigmoid(slope * a[i]);
                let analytic = slope * s * (1.0 - s) * g[i];
                prop_assert!((grad[i] - analytic).abs() <= 1e-12 * (1.0 + analytic.abs()),
                    "{est:?}: grad {} vs {analytic}", grad[i]);
                let fd = (sigmoid(slope * (a[i] + delta)) - sigmoid(slope * (a[i] - delta)))
                    / (2.0 * delta) * g[i];
                prop_assert!((grad[i] - fd).abs() <= 1e-7 * (1.0 + fd.abs()),
                    "{est:?}: grad {} vs finite difference {fd}", grad[i]);
            }
        }
    }

    /// Sign and stochastic sign: the gradient is exactly `g·1[|r| ≤ 1]`,
    /// including at `|r| = 1` and `r = 0`.
    #[test]
    fn sign_ste_gradient_is_htanh_mask(
        (r, g) in (1usize..64).prop_flat_map(|n| (
            prop::collection::vec(prop_oneof![
                3 => -3.0f64..3.0, 1 => Just(1.0), 1 => Just(-1.0), 1 => Just(0.0)], n),
            prop::collection::vec(-10.0f64..10.0, n))),
        dtype in dtypes(), seed in any::<u64>())
    {
        for est in [BinaryEstimator::Sign, BinaryEstimator::StochasticSign] {
            let (_, grad) = forward_backward(est, &r, &g, 1.0, dtype, seed);
            let rt = values(&tensor(&r, dtype));
            let gt = values(&tensor(&g, dtype));
            let expected: Vec<f64> = rt.iter().zip(&gt)
                .map(|(r, g)| if r.abs() <= 1.0 { *g } else { 0.0 }).collect();
            prop_assert_eq!(grad, expected);
        }
    }

    /// Deterministic sign: `+1` for `r ≥ 0`, `−1` otherwise; DBN: `1[a ≥ 0]`.
    #[test]
    fn deterministic_units_threshold_at_zero(a in pre_activations(), slope in 0.5f64..5.0) {
        let t = tensor(&a, DType::F64);
        let sign = values(&sign_ste(&t).expect("sign"));
        let dbn = values(&deterministic_binary(&t, slope).expect("dbn"));
        for i in 0..a.len() {
            prop_assert_eq!(sign[i], if a[i] >= 0.0 { 1.0 } else { -1.0 });
            prop_assert_eq!(dbn[i], if a[i] >= 0.0 { 1.0 } else { 0.0 });
        }
    }

    /// Over n draws the mean of `h` lies within 5·sqrt(p(1−p)/n) of its
    /// probability: σ(m·a) for the {0,1} units, clip((r+1)/2) for ±1 units.
    ///
    /// The 5σ bound is a normal approximation, valid when n·p(1−p) is large:
    /// the strategies keep p in [0.017, 0.983] (n·p(1−p) ≥ 67). Saturated
    /// probabilities are covered by `saturated_units_are_deterministic`.
    #[test]
    fn sample_mean_matches_probability(z in -4.0f64..4.0, slope in 0.5f64..5.0,
                                       dtype in dtypes(), seed in any::<u64>()) {
        let n = 4000;
        let soft_in = tensor(&vec![z / slope; n], dtype);
        let hard_in = tensor(&vec![z; n], dtype);
        let sign_in = tensor(&vec![z / 4.2; n], dtype);
        let (a_soft, a_hard, r) = (values(&soft_in)[0], values(&hard_in)[0], values(&sign_in)[0]);
        let mut rng = SeededRng::seed_from_u64(seed);
        let cases = [
            (values(&bernoulli_soft_ste(&soft_in, slope, &mut rng).expect("soft")),
             sigmoid(slope * a_soft)),
            (values(&bernoulli_hard_ste(&hard_in, &mut rng).expect("hard")), sigmoid(a_hard)),
            (values(&bernoulli_hard_ste_reference(&hard_in, &mut rng).expect("hard, reference")),
             sigmoid(a_hard)),
            (values(&stochastic_sign_ste(&sign_in, &mut rng).expect("sign"))
                .iter().map(|v| (v + 1.0) / 2.0).collect(),
             ((r + 1.0) / 2.0).clamp(0.0, 1.0)),
        ];
        for (h, p) in cases {
            let mean = h.iter().sum::<f64>() / n as f64;
            let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt();
            prop_assert!((mean - p).abs() <= tol, "mean {mean} vs p {p} (tol {tol})");
        }
    }

    /// Saturated units are deterministic: the ±1 unit outside [−1, 1]
    /// (probability exactly 0 or 1), and the {0,1} units for |m·a| ≥ 40, where
    /// σ(−|m·a|) < 5e-18 lies below the resolution of the uniforms (2^-24 in
    /// f32, 2^-53 in f64): such a unit flips only when u is exactly 0.
    #[test]
    fn saturated_units_are_deterministic(z in 40.0f64..1.0e4, r in 1.0f64..1.0e4,
                                         negative in any::<bool>(), dtype in dtypes(),
                                         seed in any::<u64>()) {
        let sign = if negative { -1.0 } else { 1.0 };
        let n = 512;
        let mut rng = SeededRng::seed_from_u64(seed);
        let on = if negative { 0.0 } else { 1.0 };
        let hard = values(&bernoulli_hard_ste(&tensor(&vec![sign * z; n], dtype), &mut rng)
            .expect("hard"));
        let soft = values(&bernoulli_soft_ste(&tensor(&vec![sign * z / 2.0; n], dtype), 2.0,
            &mut rng).expect("soft"));
        let pm = values(&stochastic_sign_ste(&tensor(&vec![sign * r; n], dtype), &mut rng)
            .expect("sign"));
        if dtype == DType::F64 || z >= 104.0 {
            prop_assert!(hard.iter().chain(&soft).all(|v| *v == on));
        } else {
            // f32: u = 0 has probability 2^-24 per draw (6e-5 for this
            // case's 1024 draws); two such draws are out of reach.
            prop_assert!(hard.iter().chain(&soft).filter(|v| **v != on).count() <= 1);
        }
        prop_assert!(pm.iter().all(|v| *v == sign));
    }

    /// The same seed gives the same samples, bit for bit.
    #[test]
    fn same_seed_same_samples(a in pre_activations(), slope in 0.5f64..5.0,
                              dtype in dtypes(), seed in any::<u64>()) {
        let g = vec![1.0; a.len()];
        for est in ALL {
            let first = forward_backward(est, &a, &g, slope, dtype, seed);
            let second = forward_backward(est, &a, &g, slope, dtype, seed);
            prop_assert_eq!(first, second);
        }
    }

    /// No NaN or infinity, forward or backward, for |a| up to 1e4.
    #[test]
    fn finite_for_large_inputs(a in prop::collection::vec(-1.0e4f64..1.0e4, 1..64),
                               g in -10.0f64..10.0, slope in 0.5f64..5.0,
                               dtype in dtypes(), seed in any::<u64>()) {
        let g = vec![g; a.len()];
        for est in ALL {
            let (h, grad) = forward_backward(est, &a, &g, slope, dtype, seed);
            prop_assert!(h.iter().chain(&grad).all(|v| v.is_finite()), "{est:?}");
        }
    }
}

#[test]
fn different_seeds_give_different_samples() {
    let t = tensor(&[0.0; 256], DType::F32);
    let draw = |seed| {
        let mut rng = SeededRng::seed_from_u64(seed);
        values(&bernoulli_hard_ste(&t, &mut rng).expect("hard"))
    };
    assert_ne!(draw(1), draw(2));
}

#[test]
fn invalid_slopes_are_errors() {
    let t = tensor(&[0.5], DType::F32);
    let mut rng = SeededRng::seed_from_u64(0);
    for slope in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(bernoulli_soft_ste(&t, slope, &mut rng).is_err(), "{slope}");
        assert!(deterministic_binary(&t, slope).is_err(), "{slope}");
        assert!(sigmoid_probability(&t, slope).is_err(), "{slope}");
    }
}

/// The fused CPU op and the tensor-op reference pass the upstream gradient
/// through unchanged, bit for bit, and give exactly 0/1 values.
#[test]
fn fused_and_reference_hard_ste_have_the_same_gradient() {
    for dtype in [DType::F32, DType::F64] {
        let a: Vec<f64> = (0..300).map(|i| (i as f64 - 150.0) / 20.0).collect();
        let g: Vec<f64> = (0..300).map(|i| ((i * 7) % 13) as f64 - 6.0).collect();
        let mut rng = SeededRng::seed_from_u64(9);
        for fused in [true, false] {
            let x = candle_core::Var::from_tensor(&tensor(&a, dtype)).expect("var");
            let h = if fused {
                bernoulli_hard_ste(x.as_tensor(), &mut rng)
            } else {
                bernoulli_hard_ste_reference(x.as_tensor(), &mut rng)
            }
            .expect("sample");
            assert!(values(&h).iter().all(|v| *v == 0.0 || *v == 1.0));
            let loss = (&h * tensor(&g, dtype))
                .expect("mul")
                .sum_all()
                .expect("sum");
            let grads = loss.backward().expect("backward");
            let grad = values(grads.get(x.as_tensor()).expect("gradient"));
            assert_eq!(grad, g, "fused {fused}, {dtype:?}");
        }
    }
}
