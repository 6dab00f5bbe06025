//! BNN layers (eq. 2.17–2.22), the scaled ReLU and adaptive dropout
//! (eq. 2.8): forward values against references built from plain candle
//! ops, straight-through gradients, and the law of the stochastic parts.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarBuilder;
use common::values;
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, SignGradient, uniform_like};
use sgbn_layers::{
    AdaptiveDropoutMode, BnnBinarization, BnnConv2dConfig, MaskedConv2dConfig, SeededVarMap,
    WeightBinarization, adaptive_dropout, bnn_conv2d, bnn_dense, scaled_relu,
};

fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    let zeros = Tensor::zeros(shape, DType::F32, &Device::Cpu).expect("zeros");
    let u = uniform_like(&zeros, &mut SeededRng::seed_from_u64(seed)).expect("u");
    ((u * (hi - lo)).expect("scale") + lo).expect("shift")
}

fn vb(vars: &SeededVarMap) -> VarBuilder<'static> {
    vars.var_builder(DType::F32, &Device::Cpu)
}

/// `+1` where `t ≥ 0`, `−1` elsewhere.
fn sign(t: &Tensor) -> Tensor {
    ((t.ge(0.0).expect("ge").to_dtype(DType::F32).expect("f32") * 2.0).expect("x2") - 1.0)
        .expect("-1")
}

/// Batch norm in training mode with the initial affine parameters (1, 0):
/// `(x − mean_c) / √(var_c + 1e-5)`, biased variance over (B, H, W).
fn batch_normalize(x: &Tensor) -> Tensor {
    let dims: Vec<usize> = if x.rank() == 4 {
        vec![0, 2, 3]
    } else {
        vec![0]
    };
    let mean = x.mean_keepdim(dims.as_slice()).expect("mean");
    let centred = x.broadcast_sub(&mean).expect("centre");
    let var = centred
        .sqr()
        .expect("sqr")
        .mean_keepdim(dims.as_slice())
        .expect("var");
    centred
        .broadcast_div(&(var + 1e-5).expect("eps").sqrt().expect("sqrt"))
        .expect("div")
}

#[test]
fn bnn_conv_is_a_plus_minus_one_convolution_of_the_normalized_input() {
    let vars = SeededVarMap::new(1);
    let config = BnnConv2dConfig {
        conv: MaskedConv2dConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    let layer = bnn_conv2d(3, 4, 3, config, vb(&vars).pp("c")).expect("layer");
    let x = uniform(&[5, 3, 7, 7], 0.0, 2.0, 2);
    let mut rng = SeededRng::seed_from_u64(3);
    let y = layer.forward(&x, true, &mut rng).expect("forward");
    let xb = sign(&batch_normalize(&x));
    let wb = sign(layer.weight());
    let expected = xb.conv2d(&wb, 1, 2, 1, 1).expect("conv");
    assert_eq!(y.dims(), expected.dims());
    // Sums of ±1 products: exact in f32.
    assert_eq!(values(&y), values(&expected));
    // Initial weights: normal with σ 0.2 (sample std within 10 % over 108).
    let w = values(layer.weight());
    let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
    assert!((0.16..0.24).contains(&std), "weight std {std}");
}

#[test]
fn bnn_weight_gradient_is_the_htanh_or_clipped_straight_through_gradient() {
    for gradient in [SignGradient::Htanh, SignGradient::ClipUpstream] {
        let vars = SeededVarMap::new(4);
        let config = BnnConv2dConfig {
            binarization: BnnBinarization {
                weights: WeightBinarization::Deterministic,
                gradient,
            },
            ..Default::default()
        };
        let layer = bnn_conv2d(2, 3, 3, config, vb(&vars).pp("c")).expect("layer");
        // Push some weights outside [−1, 1], where htanh cancels the gradient.
        let w = vars.get("c.weight").expect("weight");
        let shifted = (w.as_tensor() * 8.0).expect("scale");
        w.set(&shifted).expect("set");
        let x = uniform(&[4, 2, 6, 6], -1.0, 1.0, 5);
        let coeff = uniform(&[4, 3, 4, 4], -3.0, 3.0, 6);
        let y = layer
            .forward(&x, true, &mut SeededRng::seed_from_u64(0))
            .expect("forward");
        let grads = (y * &coeff)
            .expect("mul")
            .sum_all()
            .expect("sum")
            .backward()
            .expect("backward");
        let got = values(grads.get(w.as_tensor()).expect("weight gradient"));
        // Reference: the gradient with respect to the ±1 weights themselves.
        let wb = Var::from_tensor(&sign(w.as_tensor())).expect("var");
        let xb = sign(&batch_normalize(&x));
        let g = (xb.conv2d(wb.as_tensor(), 0, 1, 1, 1).expect("conv") * &coeff)
            .expect("mul")
            .sum_all()
            .expect("sum")
            .backward()
            .expect("backward");
        let upstream = values(g.get(wb.as_tensor()).expect("g"));
        let raw = values(w.as_tensor());
        let mut cancelled = 0;
        for ((got, up), r) in got.iter().zip(&upstream).zip(&raw) {
            let expected = match gradient {
                SignGradient::Htanh if r.abs() > 1.0 => 0.0,
                SignGradient::Htanh => *up,
                SignGradient::ClipUpstream => up.clamp(-1.0, 1.0),
            };
            cancelled += usize::from(r.abs() > 1.0);
            assert!(
                (got - expected).abs() < 1e-4,
                "{gradient:?}: {got} vs {expected}"
            );
        }
        assert!(cancelled > 0, "the test must put weights outside [−1, 1]");
    }
}

#[test]
fn stochastic_weights_are_plus_one_with_the_hard_sigmoid_probability() {
    let b = BnnBinarization {
        weights: WeightBinarization::Stochastic,
        ..Default::default()
    };
    let n = 20_000;
    for (w, p) in [(0.3f32, 0.65), (-0.6, 0.2), (1.5, 1.0), (-1.2, 0.0)] {
        let t = Tensor::full(w, n, &Device::Cpu).expect("w");
        let q = values(&b.weights(&t, &mut SeededRng::seed_from_u64(9)).expect("q"));
        assert!(q.iter().all(|v| *v == 1.0 || *v == -1.0));
        let share = q.iter().filter(|v| **v == 1.0).count() as f64 / n as f64;
        // 5 standard errors of a share over 20,000 draws.
        let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt() + 1e-12;
        assert!((share - p).abs() <= tol, "w {w}: share {share}, p {p}");
    }
    // Two draws differ; the same generator state repeats.
    let t = uniform(&[1000], -1.0, 1.0, 10);
    let draw = |s| values(&b.weights(&t, &mut SeededRng::seed_from_u64(s)).expect("q"));
    assert_ne!(draw(1), draw(2));
    assert_eq!(draw(1), draw(1));
}

#[test]
fn bnn_dense_and_scaled_relu() {
    let vars = SeededVarMap::new(11);
    let layer = bnn_dense(
        6,
        4,
        BnnBinarization::default(),
        Default::default(),
        vb(&vars).pp("d"),
    )
    .expect("dense");
    let x = uniform(&[5, 6], -2.0, 2.0, 12);
    let y = layer
        .forward(&x, true, &mut SeededRng::seed_from_u64(0))
        .expect("forward");
    let expected = sign(&batch_normalize(&x))
        .matmul(&sign(layer.weight()))
        .expect("matmul");
    assert_eq!(values(&y), values(&expected));

    let srelu = scaled_relu(vb(&vars).pp("s")).expect("srelu");
    assert_eq!(values(srelu.scale()), [0.05f32 as f64]);
    let z = Tensor::new(&[-1.0f32, 2.0, 4.0], &Device::Cpu).expect("z");
    let out = srelu.forward(&z).expect("forward");
    assert_eq!(values(&out), [0.0, 0.1f32 as f64, 0.2f32 as f64]);
    let scale = vars.get("s.scale").expect("scale");
    let g = out.sum_all().expect("sum").backward().expect("backward");
    // d/ds Σ s·relu(z) = Σ relu(z) = 6.
    assert_eq!(values(g.get(scale.as_tensor()).expect("g")), [6.0]);
}

#[test]
fn adaptive_dropout_keeps_units_with_the_learned_probability() {
    let vars = SeededVarMap::new(13);
    let dt =
        adaptive_dropout(2, AdaptiveDropoutMode::Deterministic, vb(&vars).pp("ad")).expect("dt");
    let z = uniform(&[3, 2, 4, 4], -2.0, 2.0, 14);
    let h = z.relu().expect("relu");
    // Initial α = 1, β = 0: DT multiplies by σ(z).
    let out = dt
        .forward(&h, &z, &mut SeededRng::seed_from_u64(0))
        .expect("dt");
    let expected = (&h * candle_nn::ops::sigmoid(&z).expect("sigmoid")).expect("mul");
    assert_eq!(values(&out), values(&expected));
    // Gradients reach α and β.
    let g = out.sum_all().expect("sum").backward().expect("backward");
    for name in ["ad.alpha", "ad.beta"] {
        let v = vars.get(name).expect(name);
        let gv = values(g.get(v.as_tensor()).expect(name));
        assert!(
            gv.iter().all(|x| x.is_finite() && *x != 0.0),
            "{name}: {gv:?}"
        );
    }

    // ST: a binary mask kept at rate σ(α·z + β); with z = 0.8 everywhere,
    // p = σ(0.8) ≈ 0.690.
    let st_vars = SeededVarMap::new(15);
    let st =
        adaptive_dropout(2, AdaptiveDropoutMode::Stochastic, vb(&st_vars).pp("ad")).expect("st");
    let n = 2 * 2 * 50 * 50;
    let z = Tensor::full(0.8f32, (2, 2, 50, 50), &Device::Cpu).expect("z");
    let ones = Tensor::ones((2, 2, 50, 50), DType::F32, &Device::Cpu).expect("ones");
    let kept = values(
        &st.forward(&ones, &z, &mut SeededRng::seed_from_u64(16))
            .expect("st"),
    );
    assert!(kept.iter().all(|v| *v == 0.0 || *v == 1.0));
    let p = 1.0 / (1.0 + (-0.8f64).exp());
    let share = kept.iter().sum::<f64>() / n as f64;
    let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt();
    assert!((share - p).abs() < tol, "share {share}, p {p}");
    // Bad input shape: an error naming the layer.
    let bad = Tensor::zeros((2, 3, 4, 4), DType::F32, &Device::Cpu).expect("bad");
    let e = st
        .forward(&bad, &bad, &mut SeededRng::seed_from_u64(0))
        .expect_err("channels");
    assert!(e.to_string().contains("AdaptiveDropout"), "{e}");
}
