//! The evaluation protocol on models whose answers are known in closed form.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use sgbn_attacks::Victim;
use sgbn_estimators::SeededRng;
use sgbn_eval::{AttackSpec, CleanConfig, EvalConfig, clean_check, evaluate};

/// Two classes on 4-pixel images: logits `(s, −s)` with `s = x·w`. With
/// `noise`, each pass adds ±`noise` to `s` per example (drawn from the
/// caller's generator): a stochastic model. With `w = None` the logits do
/// not depend on the input at all.
struct Linear {
    w: Option<Tensor>,
    noise: f32,
}

impl Victim for Linear {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> sgbn_attacks::Result<Tensor> {
        let b = x.dim(0)?;
        let s = match &self.w {
            Some(w) => x.flatten_from(1)?.matmul(w)?,
            None => Tensor::ones((b, 1), x.dtype(), x.device())?,
        };
        let s = if self.noise > 0.0 {
            let n: Vec<f32> = (0..b)
                .map(|_| {
                    if rng.random::<bool>() {
                        self.noise
                    } else {
                        -self.noise
                    }
                })
                .collect();
            s.broadcast_add(&Tensor::from_vec(n, (b, 1), x.device())?)?
        } else {
            s
        };
        Ok(Tensor::cat(&[&s, &s.neg()?], 1)?)
    }

    fn is_stochastic(&self) -> bool {
        self.noise > 0.0
    }

    fn num_classes(&self) -> usize {
        2
    }
}

fn weights() -> Tensor {
    Tensor::new(&[[1f32], [1.0], [-1.0], [-1.0]], &Device::Cpu).expect("w")
}

/// `n` images of class 0 with margin `s = 0.4` (pixels 0.6, 0.6, 0.4, 0.4).
fn data(n: usize) -> (Tensor, Tensor) {
    let x: Vec<f32> = (0..n).flat_map(|_| [0.6, 0.6, 0.4, 0.4]).collect();
    (
        Tensor::from_vec(x, (n, 1, 2, 2), &Device::Cpu).expect("x"),
        Tensor::zeros(n, candle_core::DType::U32, &Device::Cpu).expect("y"),
    )
}

#[test]
fn fgsm_breaks_the_linear_model_exactly_when_eps_exceeds_its_margin() {
    // FGSM moves s by 4ε: the margin 0.4 falls at ε > 0.1.
    let model = Linear {
        w: Some(weights()),
        noise: 0.0,
    };
    let (x, y) = data(10);
    let mut rng = SeededRng::seed_from_u64(0);
    for (eps, want) in [(0.0, 1.0), (0.09, 1.0), (0.11, 0.0), (0.3, 0.0)] {
        let r = evaluate(
            &model,
            &AttackSpec::fgsm(eps),
            &EvalConfig::default(),
            &x,
            &y,
            &mut rng,
        )
        .expect("evaluate");
        assert_eq!((r.accuracy, r.total), (want, 10), "ε {eps}");
        assert!(r.repeated.is_none(), "one pass asked for");
        assert_eq!(r.headline(), want);
        let cost = r.cost.expect("cost");
        assert!((cost.max_linf - eps).abs() < 1e-6, "ℓ∞ {}", cost.max_linf);
        assert!((cost.mean_l1 - eps).abs() < 1e-6, "every pixel moves by ε");
        assert_eq!(cost.success_rate, 1.0 - want);
    }
}

#[test]
fn repeated_passes_of_a_stochastic_model_are_its_headline() {
    // s = 0.4 ± 0.5: each pass gets a random half of the examples wrong.
    let model = Linear {
        w: Some(weights()),
        noise: 0.5,
    };
    let (x, y) = data(400);
    let config = EvalConfig {
        repeats: 8,
        ..EvalConfig::default()
    };
    let mut rng = SeededRng::seed_from_u64(1);
    let r = evaluate(&model, &AttackSpec::fgsm(0.0), &config, &x, &y, &mut rng).expect("eval");
    let rep = r.repeated.as_ref().expect("8 passes");
    assert_eq!(rep.per_pass.len(), 8);
    assert_eq!(r.headline(), rep.summary.mean);
    // 3,200 fair coin flips: the mean is 0.5 within 4 standard errors.
    let se = (0.25f64 / 3200.0).sqrt();
    assert!(
        (rep.summary.mean - 0.5).abs() < 4.0 * se,
        "{}",
        rep.summary.mean
    );
    assert!(rep.unstable_fraction > 0.9);
    // The same seed gives the same numbers.
    let again = evaluate(
        &model,
        &AttackSpec::fgsm(0.0),
        &config,
        &x,
        &y,
        &mut SeededRng::seed_from_u64(1),
    )
    .expect("again");
    assert_eq!(again.repeated, r.repeated);
    assert_eq!(again.accuracy, r.accuracy);
}

#[test]
fn zero_repeats_and_bad_attacks_are_refused_before_any_work() {
    let model = Linear {
        w: Some(weights()),
        noise: 0.0,
    };
    let (x, y) = data(2);
    let mut rng = SeededRng::seed_from_u64(0);
    let zero = EvalConfig {
        repeats: 0,
        ..EvalConfig::default()
    };
    let e = evaluate(&model, &AttackSpec::fgsm(0.1), &zero, &x, &y, &mut rng).expect_err("0");
    assert!(e.to_string().contains("repeats"), "{e}");
    let e = evaluate(
        &model,
        &AttackSpec::fgsm(2.0),
        &EvalConfig::default(),
        &x,
        &y,
        &mut rng,
    )
    .expect_err("ε 2");
    assert!(e.to_string().contains('2'), "{e}");
}

#[test]
fn the_clean_check_flags_randomness_and_blind_gradients() {
    let (x, y) = data(50);
    let config = CleanConfig::default();
    let steady = Linear {
        w: Some(weights()),
        noise: 0.0,
    };
    let c =
        clean_check(&steady, &x, &y, &config, &mut SeededRng::seed_from_u64(0)).expect("steady");
    assert_eq!(c.repeated.summary.mean, 1.0);
    assert!(!c.flags().any(), "{:?}", c.flags());
    assert!(c.flags().model_labels().is_empty());

    let noisy = Linear {
        w: Some(weights()),
        noise: 0.5,
    };
    let c = clean_check(&noisy, &x, &y, &config, &mut SeededRng::seed_from_u64(0)).expect("noisy");
    let f = c.flags();
    assert!(f.randomness_detected);
    assert!(
        f.model_labels()[0].starts_with("random ("),
        "{:?}",
        f.model_labels()
    );

    let blind = Linear {
        w: None,
        noise: 0.0,
    };
    let c = clean_check(&blind, &x, &y, &config, &mut SeededRng::seed_from_u64(0)).expect("blind");
    assert_eq!(c.flags().zero_gradient_examples, Some(1.0));
    assert_eq!(c.flags().model_labels(), ["zero ∇ on 100.0 %"]);

    let bad = CleanConfig {
        eot: 0,
        ..CleanConfig::default()
    };
    assert!(clean_check(&blind, &x, &y, &bad, &mut SeededRng::seed_from_u64(0)).is_err());
}
