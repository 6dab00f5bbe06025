//! The fused training-mode batch norm computes what candle-nn's
//! `forward_train` computes: output, running statistics and every gradient,
//! on 4-D (conv) and 2-D (dense) inputs, in f32 and f64.

mod common;

use candle_core::{DType, Device, ModuleT, Tensor, Var};
use candle_nn::{BatchNorm, BatchNormConfig};
use common::values;
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_layers::{batch_norm_t, batch_norm_train};

fn uniform(shape: &[usize], dtype: DType, seed: u64) -> Tensor {
    let mut rng = SeededRng::seed_from_u64(seed);
    let zeros = Tensor::zeros(shape, DType::F64, &Device::Cpu).expect("zeros");
    let u = uniform_like(&zeros, &mut rng).expect("uniform");
    ((u * 4.0).expect("scale") - 1.0)
        .expect("shift")
        .to_dtype(dtype)
        .expect("dtype")
}

fn assert_close(a: &Tensor, b: &Tensor, tol: f64, what: &str) {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (p, q)) in a.iter().zip(&b).enumerate() {
        assert!(
            (p - q).abs() <= tol * (1.0 + q.abs()),
            "{what}[{i}]: {p} vs {q}"
        );
    }
}

/// A layer over fresh parameters `(γ, β)` and running statistics.
fn layer(c: usize, dtype: DType, seed: u64) -> (BatchNorm, Var, Var) {
    let gamma = Var::from_tensor(&uniform(&[c], dtype, seed)).expect("gamma");
    let beta = Var::from_tensor(&uniform(&[c], dtype, seed + 1)).expect("beta");
    let mean = Var::from_tensor(&uniform(&[c], dtype, seed + 2)).expect("running mean");
    let var = Var::from_tensor(
        &(uniform(&[c], dtype, seed + 3).abs().expect("abs") + 0.5).expect("shift"),
    )
    .expect("running var");
    let bn = BatchNorm::new(
        c,
        mean.as_tensor().clone(),
        var.as_tensor().clone(),
        gamma.as_tensor().clone(),
        beta.as_tensor().clone(),
        1e-5,
    )
    .expect("batch norm");
    (bn, gamma, beta)
}

#[test]
fn fused_training_forward_matches_candle_nn() {
    for (dtype, tol) in [(DType::F32, 2e-5), (DType::F64, 1e-11)] {
        for shape in [vec![5, 3, 4, 4], vec![7, 6]] {
            let c = shape[1];
            let (fused_bn, g1, b1) = layer(c, dtype, 10);
            let (plain_bn, g2, b2) = layer(c, dtype, 10);
            let x1 = Var::from_tensor(&uniform(&shape, dtype, 20)).expect("x");
            let x2 = Var::from_tensor(&x1.as_tensor().copy().expect("copy")).expect("x2");
            let r = uniform(&shape, dtype, 30);
            let y1 = batch_norm_train(&fused_bn, x1.as_tensor()).expect("fused");
            let y2 = plain_bn.forward_t(x2.as_tensor(), true).expect("candle-nn");
            let what = format!("{dtype:?} {shape:?}");
            assert_close(&y1, &y2, tol, &format!("{what} output"));
            assert_close(
                fused_bn.running_mean(),
                plain_bn.running_mean(),
                tol,
                &format!("{what} running mean"),
            );
            assert_close(
                fused_bn.running_var(),
                plain_bn.running_var(),
                tol,
                &format!("{what} running var"),
            );
            let loss = |y: &Tensor| y.mul(&r).expect("mul").sum_all().expect("sum");
            let (gr1, gr2) = (
                loss(&y1).backward().expect("fused backward"),
                loss(&y2).backward().expect("candle-nn backward"),
            );
            for (name, a, b) in [
                ("x", x1.as_tensor(), x2.as_tensor()),
                ("gamma", g1.as_tensor(), g2.as_tensor()),
                ("beta", b1.as_tensor(), b2.as_tensor()),
            ] {
                assert_close(
                    gr1.get(a).expect("fused gradient"),
                    gr2.get(b).expect("candle-nn gradient"),
                    tol * 10.0,
                    &format!("{what} gradient to {name}"),
                );
            }
        }
    }
}

#[test]
fn frozen_parameters_and_constant_inputs_get_no_gradient() {
    let (bn, gamma, beta) = layer(3, DType::F32, 40);
    let x = uniform(&[4, 3, 2, 2], DType::F32, 41);
    let y = batch_norm_train(&bn, &x).expect("forward");
    let grads = y.sum_all().expect("sum").backward().expect("backward");
    assert!(grads.get(&x).is_none());
    assert!(grads.get(gamma.as_tensor()).is_some() && grads.get(beta.as_tensor()).is_some());
}

#[test]
fn evaluation_mode_and_bad_inputs() {
    let (bn, _, _) = layer(3, DType::F64, 50);
    let x = uniform(&[4, 3, 2, 2], DType::F64, 51);
    let config = BatchNormConfig::default();
    // Evaluation mode is candle-nn's path and leaves the statistics alone.
    let before = values(bn.running_mean());
    let y = batch_norm_t(&bn, &config, &x, false).expect("eval");
    assert_close(
        &y,
        &bn.forward_t(&x, false).expect("eval"),
        0.0,
        "eval output",
    );
    assert_eq!(values(bn.running_mean()), before);
    // Wrong channel count, and a single value per channel.
    let err = batch_norm_train(&bn, &uniform(&[4, 2, 2, 2], DType::F64, 52)).expect_err("channels");
    assert!(err.to_string().contains("3 channels"), "{err}");
    let err = batch_norm_train(&bn, &uniform(&[1, 3], DType::F64, 53)).expect_err("one value");
    assert!(err.to_string().contains("at least 2"), "{err}");
}
