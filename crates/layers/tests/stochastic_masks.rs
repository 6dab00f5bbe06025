//! SAP (eq. 2.23–2.25) and random weight masks.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::values;
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_layers::{RandomWeightMask, stochastic_activation_pruning};

/// Non-negative activations with some exact zeros, as after a ReLU.
fn activations(b: usize, n: usize, seed: u64) -> Tensor {
    let z = Tensor::zeros((b, n), DType::F64, &Device::Cpu).expect("z");
    let u = uniform_like(&z, &mut SeededRng::seed_from_u64(seed)).expect("u");
    ((u - 0.3).expect("shift")).relu().expect("relu")
}

#[test]
fn sap_keeps_units_scaled_by_their_inverse_draw_probability() {
    let h = activations(4, 30, 1);
    let out = stochastic_activation_pruning(&h, &mut SeededRng::seed_from_u64(2)).expect("sap");
    let (hv, ov) = (values(&h), values(&out));
    for s in 0..4 {
        let row = &hv[s * 30..(s + 1) * 30];
        let total: f64 = row.iter().map(|v| v.abs()).sum();
        for i in 0..30 {
            let o = ov[s * 30 + i];
            if row[i] == 0.0 || o == 0.0 {
                assert_eq!(o, 0.0);
                continue;
            }
            let p = row[i] / total;
            let expected = row[i] / (1.0 - (1.0 - p).powi(30));
            assert!(
                (o - expected).abs() <= 1e-12 * expected,
                "{o} vs {expected}"
            );
        }
    }
}

#[test]
fn sap_is_unbiased() {
    // E[out_i] = h_i. Over R draws the mean lies within 5 standard errors;
    // the spread of one draw of unit i is h_i·sqrt((1 − q)/q), q = P(drawn).
    let h = activations(1, 20, 3);
    let hv = values(&h);
    let total: f64 = hv.iter().sum();
    let r = 4000;
    let mut rng = SeededRng::seed_from_u64(4);
    let mut sums = [0.0; 20];
    for _ in 0..r {
        for (s, v) in sums.iter_mut().zip(values(
            &stochastic_activation_pruning(&h, &mut rng).expect("sap"),
        )) {
            *s += v;
        }
    }
    for i in 0..20 {
        if hv[i] == 0.0 {
            assert_eq!(sums[i], 0.0);
            continue;
        }
        let q = 1.0 - (1.0 - hv[i] / total).powi(20);
        let sd = hv[i] * ((1.0 - q) / q).sqrt();
        let mean = sums[i] / r as f64;
        assert!(
            (mean - hv[i]).abs() <= 5.0 * sd / (r as f64).sqrt() + 1e-12,
            "unit {i}: mean {mean} vs {}",
            hv[i]
        );
    }
}

#[test]
fn sap_gradient_is_the_scale_of_kept_units_and_zero_rows_stay_zero() {
    let mut hv = values(&activations(2, 10, 5));
    hv[10..].iter_mut().for_each(|v| *v = 0.0);
    let h = Var::from_tensor(&Tensor::from_vec(hv.clone(), (2, 10), &Device::Cpu).expect("t"))
        .expect("v");
    let out = stochastic_activation_pruning(h.as_tensor(), &mut SeededRng::seed_from_u64(6))
        .expect("sap");
    let grads = out.sum_all().expect("sum").backward().expect("backward");
    let g = values(grads.get(h.as_tensor()).expect("grad"));
    let ov = values(&out);
    for i in 0..20 {
        if ov[i] == 0.0 {
            assert_eq!(g[i], 0.0);
        } else {
            assert!((g[i] - ov[i] / hv[i]).abs() < 1e-12);
        }
    }
    assert!(ov[10..].iter().all(|v| *v == 0.0));
    let again = stochastic_activation_pruning(h.as_tensor(), &mut SeededRng::seed_from_u64(6))
        .expect("sap");
    assert_eq!(values(&again), ov, "same seed, same pruning");
}

#[test]
fn random_masks_are_binary_with_the_keep_rate() {
    let shape = [8, 4, 5, 5];
    let n = 8 * 4 * 25;
    let mut rng = SeededRng::seed_from_u64(7);
    let per_sample = RandomWeightMask::new(0.6, true).expect("mask");
    let m = per_sample
        .masks(50, &shape, &Device::Cpu, &mut rng)
        .expect("masks");
    assert_eq!(m.dims(), [50, 8, 4, 5, 5]);
    let v = values(&m);
    assert!(v.iter().all(|x| *x == 0.0 || *x == 1.0));
    let rate = v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        (rate - 0.6).abs() <= 5.0 * (0.24 / v.len() as f64).sqrt(),
        "{rate}"
    );
    assert_ne!(v[..n], v[n..2 * n], "one mask per sample");

    let per_batch = RandomWeightMask::new(0.5, false).expect("mask");
    let v = values(
        &per_batch
            .masks(3, &shape, &Device::Cpu, &mut rng)
            .expect("masks"),
    );
    assert_eq!(v[..n], v[n..2 * n], "one mask per batch");
    for keep in [0.0, 1.5, f64::NAN] {
        assert!(RandomWeightMask::new(keep, true).is_err());
    }
}
