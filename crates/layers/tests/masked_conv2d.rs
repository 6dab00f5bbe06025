//! MaskedConv2d (eq. 4.1–4.2): forward against a per-sample reference built
//! on candle's own conv2d, and every gradient against central finite
//! differences in f64.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::values;
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_layers::{
    ConvImplementation, LayerError, MaskedConv2d, MaskedConv2dConfig, SeededVarMap, masked_conv2d,
};

const BOTH: [ConvImplementation; 2] = [ConvImplementation::Fast, ConvImplementation::Reference];

fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    let mut rng = SeededRng::seed_from_u64(seed);
    let zeros = Tensor::zeros(shape, DType::F64, &Device::Cpu).expect("zeros");
    let u = uniform_like(&zeros, &mut rng).expect("uniform");
    ((u * (hi - lo)).expect("scale") + lo).expect("shift")
}

struct Case {
    b: usize,
    cin: usize,
    cout: usize,
    k: usize,
    hw: usize,
    stride: usize,
    padding: usize,
}

const CASES: [Case; 6] = [
    Case {
        b: 3,
        cin: 2,
        cout: 3,
        k: 3,
        hw: 6,
        stride: 2,
        padding: 1,
    },
    Case {
        b: 2,
        cin: 1,
        cout: 2,
        k: 5,
        hw: 9,
        stride: 2,
        padding: 0,
    },
    Case {
        b: 2,
        cin: 3,
        cout: 2,
        k: 2,
        hw: 4,
        stride: 1,
        padding: 0,
    },
    // Stride 1 with padding, and more samples than one chunk of the
    // kernels' fixed-order batch sums (8).
    Case {
        b: 9,
        cin: 2,
        cout: 2,
        k: 5,
        hw: 6,
        stride: 1,
        padding: 2,
    },
    // More samples than the unmasked kernels' batch chunk (64).
    Case {
        b: 70,
        cin: 1,
        cout: 2,
        k: 3,
        hw: 5,
        stride: 2,
        padding: 1,
    },
    // Kernel offsets whose every tap falls in the padding.
    Case {
        b: 2,
        cin: 1,
        cout: 2,
        k: 3,
        hw: 3,
        stride: 3,
        padding: 2,
    },
];

fn layer(c: &Case, bias: bool, seed: u64) -> (MaskedConv2d, Var, Option<Var>) {
    layer_with(c, bias, seed, ConvImplementation::Fast)
}

fn layer_with(
    c: &Case,
    bias: bool,
    seed: u64,
    implementation: ConvImplementation,
) -> (MaskedConv2d, Var, Option<Var>) {
    let w = Var::from_tensor(&uniform(&[c.cout, c.cin, c.k, c.k], -1.0, 1.0, seed)).expect("w");
    let b = bias.then(|| Var::from_tensor(&uniform(&[c.cout], -1.0, 1.0, seed + 1)).expect("b"));
    let config = MaskedConv2dConfig {
        stride: c.stride,
        padding: c.padding,
        bias,
        implementation,
        uniform_bound: None,
    };
    let conv = MaskedConv2d::new(
        w.as_tensor().clone(),
        b.as_ref().map(|b| b.as_tensor().clone()),
        config,
    );
    (conv, w, b)
}

#[test]
fn forward_equals_per_sample_candle_conv_with_masked_weights() {
    for (i, c) in CASES.iter().enumerate() {
        for imp in BOTH {
            let seed = 10 * i as u64;
            let (conv, w, bias) = layer_with(c, true, seed, imp);
            let x = uniform(&[c.b, c.cin, c.hw, c.hw], 0.0, 1.0, seed + 2);
            // Masks in {0, 1}, as the gates produce.
            let m = uniform(&[c.b, c.cout, c.cin, c.k, c.k], 0.0, 1.0, seed + 3)
                .ge(0.5)
                .expect("ge")
                .to_dtype(DType::F64)
                .expect("f64");
            let y = conv.forward_masked(&x, Some(&m)).expect("forward");
            for s in 0..c.b {
                let ws = (w.as_tensor() * m.get(s).expect("mask")).expect("masked w");
                let xs = x.narrow(0, s, 1).expect("x_s");
                let reference = xs
                    .conv2d(&ws, c.padding, c.stride, 1, 1)
                    .expect("conv2d")
                    .broadcast_add(
                        &bias
                            .as_ref()
                            .expect("bias")
                            .as_tensor()
                            .reshape((1, c.cout, 1, 1))
                            .expect("b"),
                    )
                    .expect("add");
                let got = y.narrow(0, s, 1).expect("y_s");
                assert_eq!(got.dims(), reference.dims());
                for (a, r) in values(&got).iter().zip(values(&reference)) {
                    assert!(
                        (a - r).abs() < 1e-12,
                        "{imp:?} case {i}, sample {s}: {a} vs {r}"
                    );
                }
            }
            // Without masks: the plain convolution.
            let plain = conv.forward_masked(&x, None).expect("forward");
            let ones = Tensor::ones_like(&m).expect("ones");
            let all_on = conv.forward_masked(&x, Some(&ones)).expect("forward");
            for (a, r) in values(&plain).iter().zip(values(&all_on)) {
                assert!(
                    (a - r).abs() < 1e-12,
                    "{imp:?} case {i}: unmasked {a} vs all-on {r}"
                );
            }
        }
    }
}

#[test]
fn gradients_to_input_weight_masks_and_bias_match_finite_differences() {
    for (i, c) in CASES.iter().enumerate() {
        for imp in BOTH {
            let seed = 100 + 10 * i as u64;
            let (conv, w, bias) = layer_with(c, true, seed, imp);
            let bias = bias.expect("bias");
            let x = Var::from_tensor(&uniform(&[c.b, c.cin, c.hw, c.hw], 0.0, 1.0, seed + 2))
                .expect("x");
            // Real-valued masks: the gradient must be right off {0,1} too (DT gates).
            let m = Var::from_tensor(&uniform(
                &[c.b, c.cout, c.cin, c.k, c.k],
                0.0,
                1.0,
                seed + 3,
            ))
            .expect("m");
            let probe = conv
                .forward_masked(x.as_tensor(), Some(m.as_tensor()))
                .expect("forward");
            let r = uniform(probe.dims(), -1.0, 1.0, seed + 4);
            let loss_tensor = || {
                conv.forward_masked(x.as_tensor(), Some(m.as_tensor()))
                    .expect("forward")
                    .mul(&r)
                    .expect("mul")
                    .sum_all()
                    .expect("sum")
            };
            let grads = loss_tensor().backward().expect("backward");
            let loss = || loss_tensor().to_scalar::<f64>().expect("scalar");
            for (name, var) in [("x", &x), ("weight", &w), ("masks", &m), ("bias", &bias)] {
                let g = grads
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("no gradient for {name}"));
                common::check_finite_differences(
                    &format!("{imp:?} case {i} {name}"),
                    var,
                    g,
                    1,
                    &loss,
                );
            }
            // The unmasked convolution has its own backward.
            let plain = || {
                conv.forward_masked(x.as_tensor(), None)
                    .expect("forward")
                    .mul(&r)
                    .expect("mul")
                    .sum_all()
                    .expect("sum")
            };
            let grads = plain().backward().expect("backward");
            let loss = || plain().to_scalar::<f64>().expect("scalar");
            for (name, var) in [("x", &x), ("weight", &w)] {
                let g = grads
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("no unmasked gradient for {name}"));
                common::check_finite_differences(
                    &format!("{imp:?} case {i} unmasked {name}"),
                    var,
                    g,
                    1,
                    &loss,
                );
            }
        }
    }
}

/// The fast path computes the same function and gradients as the reference
/// path in f32, on random inputs, with and without masks, and gives no
/// gradient to an input that does not need one.
#[test]
fn fast_and_reference_paths_agree_in_f32() {
    let f32_of = |t: Tensor| t.to_dtype(DType::F32).expect("f32");
    for (i, c) in CASES.iter().enumerate() {
        let seed = 500 + 10 * i as u64;
        let w = Var::from_tensor(&f32_of(uniform(
            &[c.cout, c.cin, c.k, c.k],
            -1.0,
            1.0,
            seed,
        )))
        .expect("w");
        let x = Var::from_tensor(&f32_of(uniform(
            &[c.b, c.cin, c.hw, c.hw],
            0.0,
            1.0,
            seed + 1,
        )))
        .expect("x");
        let m = Var::from_tensor(&f32_of(uniform(
            &[c.b, c.cout, c.cin, c.k, c.k],
            0.0,
            1.0,
            seed + 2,
        )))
        .expect("m");
        let run = |imp, masked: bool, x: &Tensor| {
            let conv = MaskedConv2d::new(
                w.as_tensor().clone(),
                None,
                MaskedConv2dConfig {
                    stride: c.stride,
                    padding: c.padding,
                    bias: false,
                    implementation: imp,
                    uniform_bound: None,
                },
            );
            let y = conv
                .forward_masked(x, masked.then(|| m.as_tensor()))
                .expect("forward");
            let r = f32_of(uniform(y.dims(), -1.0, 1.0, seed + 3));
            let grads = y
                .mul(&r)
                .expect("mul")
                .sum_all()
                .expect("sum")
                .backward()
                .expect("backward");
            (y, grads)
        };
        for masked in [true, false] {
            let (yf, gf) = run(ConvImplementation::Fast, masked, x.as_tensor());
            let (yr, gr) = run(ConvImplementation::Reference, masked, x.as_tensor());
            let close = |a: &Tensor, b: &Tensor, what: &str| {
                for (p, q) in values(&a.to_dtype(DType::F64).expect("f64"))
                    .iter()
                    .zip(values(&b.to_dtype(DType::F64).expect("f64")))
                {
                    assert!(
                        (p - q).abs() <= 1e-5 * (1.0 + q.abs()),
                        "case {i} masked {masked} {what}: {p} vs {q}"
                    );
                }
            };
            close(&yf, &yr, "output");
            let mut named = vec![("x", &x), ("weight", &w)];
            if masked {
                named.push(("masks", &m));
            }
            for (name, var) in named {
                let a = gf
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("fast: no gradient for {name}"));
                let b = gr
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("reference: no gradient for {name}"));
                close(a, b, name);
            }
            // An input that is not a variable gets no gradient.
            let plain_x = x.as_tensor().detach();
            let (_, g) = run(ConvImplementation::Fast, masked, &plain_x);
            assert!(g.get(&plain_x).is_none());
            assert!(g.get(w.as_tensor()).is_some());
        }
    }
}

/// A frozen weight (a detached tensor, as attacks use) or constant masks:
/// the fast path skips the gradient nobody needs and still gives the others
/// exactly as the reference path does.
#[test]
fn fast_path_gradients_with_a_frozen_weight_or_constant_masks() {
    let f32_of = |t: Tensor| t.to_dtype(DType::F32).expect("f32");
    for (i, c) in CASES.iter().enumerate() {
        let seed = 900 + 10 * i as u64;
        let w0 = f32_of(uniform(&[c.cout, c.cin, c.k, c.k], -1.0, 1.0, seed));
        let x = Var::from_tensor(&f32_of(uniform(
            &[c.b, c.cin, c.hw, c.hw],
            0.0,
            1.0,
            seed + 1,
        )))
        .expect("x");
        let m0 = f32_of(uniform(&[c.b, c.cout, c.cin, c.k, c.k], 0.0, 1.0, seed + 2));
        for frozen_weight in [true, false] {
            // Exactly one of the two parameters is a variable.
            let (w, m) = if frozen_weight {
                (
                    w0.clone(),
                    Var::from_tensor(&m0).expect("m").as_tensor().clone(),
                )
            } else {
                (
                    Var::from_tensor(&w0).expect("w").as_tensor().clone(),
                    m0.clone(),
                )
            };
            let run = |imp| {
                let conv = MaskedConv2d::new(
                    w.clone(),
                    None,
                    MaskedConv2dConfig {
                        stride: c.stride,
                        padding: c.padding,
                        bias: false,
                        implementation: imp,
                        uniform_bound: None,
                    },
                );
                let y = conv
                    .forward_masked(x.as_tensor(), Some(&m))
                    .expect("forward");
                let r = f32_of(uniform(y.dims(), -1.0, 1.0, seed + 3));
                y.mul(&r)
                    .expect("mul")
                    .sum_all()
                    .expect("sum")
                    .backward()
                    .expect("backward")
            };
            let (gf, gr) = (
                run(ConvImplementation::Fast),
                run(ConvImplementation::Reference),
            );
            let (needed, frozen) = if frozen_weight { (&m, &w) } else { (&w, &m) };
            assert!(
                gf.get(frozen).is_none(),
                "case {i}: a gradient for a constant"
            );
            for (name, t) in [("x", x.as_tensor()), ("parameter", needed)] {
                let a = values(
                    &gf.get(t)
                        .expect("fast gradient")
                        .to_dtype(DType::F64)
                        .expect("f64"),
                );
                let b = values(
                    &gr.get(t)
                        .expect("reference gradient")
                        .to_dtype(DType::F64)
                        .expect("f64"),
                );
                assert_eq!(a.len(), b.len());
                for (p, q) in a.iter().zip(&b) {
                    assert!(
                        (p - q).abs() <= 1e-5 * (1.0 + q.abs()),
                        "case {i} frozen weight {frozen_weight} {name}: {p} vs {q}"
                    );
                }
            }
        }
    }
}

#[test]
fn builder_initializes_glorot_from_the_seed() {
    let make = |seed| {
        let store = SeededVarMap::new(seed);
        let vb = store.var_builder(DType::F32, &Device::Cpu);
        let conv =
            masked_conv2d(32, 64, 5, MaskedConv2dConfig::default(), vb.pp("conv2")).expect("conv");
        values(&conv.weight().to_dtype(DType::F64).expect("f64"))
    };
    let a = make(7);
    assert_eq!(a.len(), 64 * 32 * 25);
    assert_eq!(a, make(7), "same seed, same weights");
    assert_ne!(a, make(8));
    let bound = (6.0f64 / ((32 + 64) * 25) as f64).sqrt();
    assert!(a.iter().all(|v| v.abs() <= bound));
    // Uniform on (−bound, bound): mean ≈ 0, variance ≈ bound²/3, each within
    // 5 standard errors for n = 51,200 draws.
    let n = a.len() as f64;
    let mean = a.iter().sum::<f64>() / n;
    let var = a.iter().map(|v| v * v).sum::<f64>() / n;
    assert!(mean.abs() < 5.0 * bound / (3.0 * n).sqrt(), "mean {mean}");
    let var_expected = bound * bound / 3.0;
    // Var(v²) for U(−a, a) is 4a⁴/45.
    assert!(
        (var - var_expected).abs() < 5.0 * (4.0 * bound.powi(4) / 45.0 / n).sqrt(),
        "var {var}"
    );
}

#[test]
fn bad_shapes_are_errors() {
    let c = &CASES[0];
    let (conv, _, _) = layer(c, false, 1);
    let wrong_channels = uniform(&[1, c.cin + 1, c.hw, c.hw], 0.0, 1.0, 1);
    assert!(matches!(
        conv.forward_masked(&wrong_channels, None),
        Err(LayerError::BadInput { .. })
    ));
    let x = uniform(&[2, c.cin, c.hw, c.hw], 0.0, 1.0, 1);
    let wrong_masks = uniform(&[3, c.cout, c.cin, c.k, c.k], 0.0, 1.0, 1);
    assert!(matches!(
        conv.forward_masked(&x, Some(&wrong_masks)),
        Err(LayerError::BadInput { .. })
    ));
    // A 5×5 kernel without padding does not fit a 3×3 input.
    let (valid, _, _) = layer(&CASES[1], false, 1);
    let tiny = uniform(&[1, CASES[1].cin, 3, 3], 0.0, 1.0, 1);
    assert!(matches!(
        valid.forward_masked(&tiny, None),
        Err(LayerError::InvalidConfig { .. })
    ));
    let store = SeededVarMap::new(0);
    let vb = store.var_builder(DType::F32, &Device::Cpu);
    assert!(masked_conv2d(0, 4, 3, MaskedConv2dConfig::default(), vb).is_err());
}
