//! Each metric against values worked out by hand.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use sgbn_attacks::Victim;
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_layers::GateTrace;
use sgbn_metrics::*;

/// z = W·flatten(x) (+ input dropout drawn from the caller's generator when
/// stochastic); `w = None` ignores the input (zero gradient).
struct Linear {
    w: Option<Tensor>,
    stochastic: bool,
}

impl Victim for Linear {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> sgbn_attacks::Result<Tensor> {
        let flat = x.flatten_from(1)?;
        let (b, d) = flat.dims2()?;
        let Some(w) = &self.w else {
            return Ok(Tensor::ones((b, 3), x.dtype(), x.device())?);
        };
        let flat = if self.stochastic {
            let m: Vec<f32> = (0..b * d)
                .map(|_| if rng.random::<bool>() { 2.0 } else { 0.0 })
                .collect();
            (flat * Tensor::from_vec(m, (b, d), x.device())?)?
        } else {
            flat
        };
        Ok(flat.matmul(&w.t()?)?)
    }
    fn is_stochastic(&self) -> bool {
        self.stochastic
    }
    fn num_classes(&self) -> usize {
        3
    }
}

fn linear(stochastic: bool) -> Linear {
    let mut r = SeededRng::seed_from_u64(1);
    let w: Vec<f32> = (0..3 * 16).map(|_| r.random_range(-2.0..2.0)).collect();
    Linear {
        w: Some(Tensor::from_vec(w, (3, 16), &Device::Cpu).expect("w")),
        stochastic,
    }
}

fn data(n: usize) -> (Tensor, Tensor) {
    let mut r = SeededRng::seed_from_u64(2);
    let x: Vec<f32> = (0..n * 16).map(|_| r.random_range(0.0..1.0)).collect();
    let y: Vec<u32> = (0..n).map(|_| r.random_range(0..3)).collect();
    (
        Tensor::from_vec(x, (n, 1, 4, 4), &Device::Cpu).expect("x"),
        Tensor::from_vec(y, n, &Device::Cpu).expect("y"),
    )
}

#[test]
fn run_summary_is_the_sample_mean_and_std() {
    let s = RunSummary::of(&[1.0, 2.0, 3.0, 4.0]).expect("summary");
    assert_eq!((s.n, s.mean, s.min, s.max), (4, 2.5, 1.0, 4.0));
    assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert!((s.standard_error() - s.std / 2.0).abs() < 1e-12);
    assert_eq!(RunSummary::of(&[0.7]).expect("one").std, 0.0);
    assert!(RunSummary::of(&[]).is_err());
    assert!(RunSummary::of(&[1.0, f64::NAN]).is_err());
    assert!((train_test_gap(0.99, 0.97) - 0.02).abs() < 1e-12);
}

#[test]
fn histogram_bins_and_edges() {
    let h = Histogram::of(
        [0.0, 0.1, 0.25, 0.5, 0.99, 1.0, -3.0, 7.0, f64::NAN],
        0.0,
        1.0,
        4,
    )
    .expect("histogram");
    assert_eq!(h.counts, vec![3, 1, 1, 3]);
    assert_eq!((h.below, h.above, h.non_finite, h.total()), (1, 1, 1, 8));
    assert_eq!(h.edges(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    assert!(Histogram::new(1.0, 1.0, 3).is_err());
    assert!(Histogram::new(0.0, 1.0, 0).is_err());
}

#[test]
fn distortion_is_mean_absolute_and_max_change() {
    let clean = Tensor::zeros((2, 1, 2, 2), candle_core::DType::F32, &Device::Cpu).expect("x");
    let adv = Tensor::from_vec(
        vec![0.1f32, -0.3, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0],
        (2, 1, 2, 2),
        &Device::Cpu,
    )
    .expect("adv");
    let d = Distortion::between(&clean, &adv).expect("distortion");
    assert!((d.l1_mean_abs[0] - 0.15).abs() < 1e-7 && d.l1_mean_abs[1] == 0.0);
    assert!((d.linf[0] - 0.3).abs() < 1e-7 && d.linf[1] == 0.0);
    assert!((d.mean_l1() - 0.075).abs() < 1e-7 && (d.max_linf() - 0.3).abs() < 1e-7);
    let other = Tensor::zeros((2, 4), candle_core::DType::F32, &Device::Cpu).expect("other");
    assert!(Distortion::between(&clean, &other).is_err());
}

#[test]
fn repeated_accuracy_of_a_deterministic_model_is_stable() {
    let (x, y) = data(40);
    let r = RepeatedAccuracy::measure(
        &linear(false),
        &x,
        &y,
        Passes {
            repeats: 5,
            batch_size: 16,
        },
        &mut SeededRng::seed_from_u64(0),
    )
    .expect("repeats");
    assert_eq!(r.unstable_fraction, 0.0);
    assert_eq!(r.summary.std, 0.0);
    assert_eq!(r.majority_vote, r.per_pass[0]);
    assert!(
        !SanityFlags::check(&SanityEvidence {
            unstable_fraction: Some(r.unstable_fraction),
            ..SanityEvidence::default()
        })
        .randomness_detected
    );
}

#[test]
fn repeated_accuracy_of_a_stochastic_model_sees_the_randomness() {
    let (x, y) = data(40);
    let r = RepeatedAccuracy::measure(
        &linear(true),
        &x,
        &y,
        Passes {
            repeats: 7,
            batch_size: 16,
        },
        &mut SeededRng::seed_from_u64(0),
    )
    .expect("repeats");
    assert!(r.unstable_fraction > 0.0);
    assert_eq!(r.per_pass.len(), 7);
    let flags = SanityFlags::check(&SanityEvidence {
        unstable_fraction: Some(r.unstable_fraction),
        ..SanityEvidence::default()
    });
    assert!(flags.randomness_detected && flags.any());
    assert!(
        RepeatedAccuracy::measure(
            &linear(true),
            &x,
            &y,
            Passes {
                repeats: 0,
                batch_size: 16
            },
            &mut SeededRng::seed_from_u64(0)
        )
        .is_err()
    );
}

#[test]
fn majority_vote_counts_and_breaks_ties_towards_the_lowest_class() {
    let truth = [0u32, 1, 2, 1];
    let passes = vec![vec![0, 1, 1, 2], vec![0, 2, 2, 1], vec![1, 1, 2, 0]];
    let r = RepeatedAccuracy::from_predictions(&passes, &truth, 3).expect("votes");
    // Votes: ex0 {0,0,1} → 0 ✓; ex1 {1,2,1} → 1 ✓; ex2 {1,2,2} → 2 ✓; ex3 {2,1,0} tie → 0 ✗.
    assert_eq!(r.majority_vote, 0.75);
    assert_eq!(r.per_pass, vec![0.5, 0.75, 0.5]);
    assert_eq!(r.unstable_fraction, 1.0);
}

#[test]
fn confidence_is_the_softmax_of_the_true_class() {
    let (x, y) = data(5);
    let model = linear(false);
    let c =
        true_class_confidence(&model, &x, &y, 2, &mut SeededRng::seed_from_u64(0)).expect("conf");
    let z: Vec<Vec<f32>> = model
        .logits(&x, &mut SeededRng::seed_from_u64(0))
        .expect("z")
        .to_vec2()
        .expect("z");
    let labels: Vec<u32> = y.to_vec1().expect("y");
    for ((row, &l), got) in z.iter().zip(&labels).zip(&c) {
        let s: f64 = row.iter().map(|v| (*v as f64).exp()).sum();
        let want = (row[l as usize] as f64).exp() / s;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}

#[test]
fn gradient_stats_flag_a_model_that_ignores_its_input() {
    let (x, y) = data(6);
    let blind = Linear {
        w: None,
        stochastic: false,
    };
    let sampling = GradientSampling {
        eot_samples: 1,
        batch_size: 4,
    };
    let measure = |victim: &dyn sgbn_attacks::Victim| {
        GradientStats::measure(victim, &x, &y, sampling, &mut SeededRng::seed_from_u64(0))
            .expect("grads")
    };
    let g = measure(&blind);
    assert_eq!(
        (g.zero_examples, g.zero_fraction, g.variance),
        (6, 1.0, 0.0)
    );
    let flags = SanityFlags::check(&SanityEvidence {
        zero_gradient_examples: Some(g.zero_examples as f64 / g.examples as f64),
        non_finite_gradients: Some(g.non_finite),
        ..SanityEvidence::default()
    });
    assert_eq!(flags.zero_gradient_examples, Some(1.0));
    assert!(flags.any());

    let real = measure(&linear(false));
    assert_eq!(real.zero_examples, 0);
    assert!(real.variance > 0.0 && real.values.len() == 6 * 16);
    let h = real
        .histogram(-real.max_abs, real.max_abs, 10)
        .expect("histogram");
    assert_eq!(h.total(), 96);
    assert_eq!(h.below + h.above, 0);

    let rows = vec![vec![0.0, 0.0], vec![1.0, f32::NAN], vec![-1.0, 3.0]];
    let s = GradientStats::from_rows(&rows);
    assert_eq!((s.zero_examples, s.non_finite, s.values.len()), (1, 1, 5));
    assert!((s.mean - 0.6).abs() < 1e-12 && (s.max_abs - 3.0).abs() < 1e-12);
}

#[test]
fn gate_stats_count_masks_and_probabilities() {
    let p = Tensor::from_vec(
        vec![0.1f32, 0.9, 0.65, 0.45, 0.25, 0.85],
        (2, 3, 1, 1, 1),
        &Device::Cpu,
    )
    .expect("p");
    let m = Tensor::from_vec(
        vec![0f32, 1.0, 1.0, 0.0, 0.0, 0.0],
        (2, 3, 1, 1, 1),
        &Device::Cpu,
    )
    .expect("m");
    let s = GateStats::of(
        &GateTrace {
            probabilities: p,
            masks: m,
            state_input: Tensor::zeros((2, 1), candle_core::DType::F32, &Device::Cpu).expect("z"),
            activation: sgbn_layers::GateActivation::Tanh,
        },
        5,
    )
    .expect("stats");
    assert!((s.share_on - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(s.share_on_per_example, vec![2.0 / 3.0, 0.0]);
    assert_eq!(s.probabilities.counts, vec![1, 1, 1, 1, 2]);
    assert!((s.mean_probability - 3.2 / 6.0).abs() < 1e-6);
}

#[test]
fn gradient_free_attack_beating_gradient_attacks_is_flagged_beyond_noise() {
    let acc = |accuracy, n| AttackAccuracy { accuracy, n };
    // 1000 examples: 60 % vs 30 % is far beyond two standard errors.
    let f = SanityFlags::check(
        &SanityEvidence::default().with_attacks(Some(acc(0.6, 1000)), Some(acc(0.3, 1000))),
    );
    assert_eq!(f.gradient_free_beats_gradient, Some(true));
    // 50 % vs 48 % on 100 examples is noise.
    assert!(!significantly_lower(acc(0.48, 100), acc(0.5, 100)));
    // Gradient attack stronger: no flag.
    let f = SanityFlags::check(
        &SanityEvidence::default().with_attacks(Some(acc(0.2, 1000)), Some(acc(0.6, 1000))),
    );
    assert_eq!(f.gradient_free_beats_gradient, Some(false));
    assert!(!f.any());
}

#[test]
fn saturation_is_measured_where_the_units_are_and_flagged_past_half() {
    use sgbn_models::{ConvNet, ForwardContext, ModelSpec};
    let x = uniform_like(
        &Tensor::zeros((8, 1, 28, 28), candle_core::DType::F32, &Device::Cpu).expect("zeros"),
        &mut SeededRng::seed_from_u64(4),
    )
    .expect("x");
    let measure = |name: &str| {
        let m =
            ConvNet::new(&ModelSpec::named(name).expect("spec"), 0, &Device::Cpu).expect("model");
        SaturationStats::measure(
            &m,
            ForwardContext::eval(1.0),
            &x,
            3,
            &mut SeededRng::seed_from_u64(0),
        )
        .expect("measure")
    };
    // No binary unit, no gates: nothing to measure.
    let cnn = measure("cnn");
    assert_eq!(cnn.examples, 8);
    assert_eq!(
        (cnn.dense_unit_saturated, cnn.gate_state_saturated),
        (None, None)
    );
    // Glorot initial values keep m·a small; U(−1, 1) ones (the authors'
    // code) make it large and saturate σ in f32.
    let thesis = measure("cnn-bin");
    let authors = measure("cnn-bin-authors");
    let (t, a) = (
        thesis.dense_unit_mean_abs_input.expect("thesis"),
        authors.dense_unit_mean_abs_input.expect("authors"),
    );
    assert!(a > 10.0 * t, "{a} vs {t}");
    assert!(
        authors.dense_unit_saturated.expect("share") > thesis.dense_unit_saturated.expect("share")
    );
    // The authors' gates: 1024 inputs of U(−1, 1) weights drive tanh flat.
    let gated = measure("sgbn-authors");
    let state = gated.gate_state_saturated.expect("gates");
    assert!(state > SATURATED_SHARE, "{state}");
    assert!(measure("sgbn").gate_state_saturated.expect("gates") < 0.1);
    let flags = SanityFlags::check(&SanityEvidence {
        saturation: Some(gated),
        ..SanityEvidence::default()
    });
    assert!(
        flags
            .model_labels()
            .iter()
            .any(|l| l.starts_with("gates saturated"))
    );
    assert!(flags.warnings().iter().any(|w| w.contains("BPDA")));
    let calm = SanityFlags::check(&SanityEvidence {
        saturation: Some(measure("sgbn")),
        ..SanityEvidence::default()
    });
    assert!(
        !calm.model_labels().iter().any(|l| l.contains("saturated")),
        "{:?}",
        calm.model_labels()
    );
}

#[test]
fn apgd_dlr_far_below_apgd_ce_raises_the_vanishing_cross_entropy_flag() {
    let at = |accuracy: f64| AttackAccuracy { accuracy, n: 500 };
    // 2 standard errors of the difference at n 500 and p ≈ 0.5: 6.3 points.
    let masked = SanityFlags::check(&SanityEvidence::default().with_apgd(at(0.60), at(0.50)));
    assert_eq!(masked.dlr_beats_ce, Some(true));
    assert!(
        masked
            .warnings()
            .iter()
            .any(|w| w.contains("APGD-DLR beats APGD-CE"))
    );
    let close = SanityFlags::check(&SanityEvidence::default().with_apgd(at(0.52), at(0.50)));
    assert_eq!(close.dlr_beats_ce, Some(false));
    assert!(!close.any());
    assert_eq!(
        SanityFlags::check(&SanityEvidence::default()).dlr_beats_ce,
        None
    );
}
