//! Dense: the CPU fast path of wide layers (custom ops, products split over
//! column blocks, bias fused) computes the same function and gradients as
//! candle's tensor ops, and only the gradients something needs.

mod common;

use candle_core::{DType, Device, Module, Tensor, Var};
use common::values;
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_layers::Dense;

fn uniform(shape: &[usize], dtype: DType, seed: u64) -> Tensor {
    let mut rng = SeededRng::seed_from_u64(seed);
    let zeros = Tensor::zeros(shape, DType::F64, &Device::Cpu).expect("zeros");
    let u = uniform_like(&zeros, &mut rng).expect("uniform");
    ((u * 2.0).expect("scale") - 1.0)
        .expect("shift")
        .to_dtype(dtype)
        .expect("dtype")
}

/// Wide enough for the fast path (≥ 8,192 outputs) and for a ragged last
/// column block (blocks of 2,048).
const OUT: usize = 8192 + 37;

fn assert_close(a: &Tensor, b: &Tensor, tol: f64, what: &str) {
    let (a, b) = (
        values(&a.to_dtype(DType::F64).expect("f64")),
        values(&b.to_dtype(DType::F64).expect("f64")),
    );
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (p, q)) in a.iter().zip(&b).enumerate() {
        assert!(
            (p - q).abs() <= tol * (1.0 + q.abs()),
            "{what}[{i}]: {p} vs {q}"
        );
    }
}

#[test]
fn fast_path_matches_tensor_ops_forward_and_every_gradient() {
    for (dtype, tol) in [(DType::F32, 1e-5), (DType::F64, 1e-12)] {
        for bias in [true, false] {
            let x = Var::from_tensor(&uniform(&[5, 7], dtype, 1)).expect("x");
            let w = Var::from_tensor(&uniform(&[7, OUT], dtype, 2)).expect("w");
            let b = Var::from_tensor(&uniform(&[OUT], dtype, 3)).expect("b");
            let layer = Dense::new(w.as_tensor().clone(), bias.then(|| b.as_tensor().clone()));
            let r = uniform(&[5, OUT], dtype, 4);
            let (yf, yr) = (
                layer.forward(x.as_tensor()).expect("fast"),
                layer.forward_reference(x.as_tensor()).expect("reference"),
            );
            assert_close(&yf, &yr, tol, "output");
            let gf = yf
                .mul(&r)
                .expect("mul")
                .sum_all()
                .expect("sum")
                .backward()
                .expect("bwd");
            let gr = yr
                .mul(&r)
                .expect("mul")
                .sum_all()
                .expect("sum")
                .backward()
                .expect("bwd");
            let mut named = vec![("x", &x), ("weight", &w)];
            if bias {
                named.push(("bias", &b));
            }
            for (name, var) in named {
                let what = format!("{dtype:?} bias {bias} gradient to {name}");
                let fast = gf.get(var.as_tensor()).expect("fast gradient");
                let reference = gr.get(var.as_tensor()).expect("reference gradient");
                assert_close(fast, reference, tol, &what);
            }
        }
    }
}

/// The analytic gradients of the fast path against central finite
/// differences of its own forward, in f64.
#[test]
fn fast_path_gradients_match_finite_differences() {
    let x = uniform(&[2, 3], DType::F64, 11);
    let w = uniform(&[3, OUT], DType::F64, 12);
    let b = uniform(&[OUT], DType::F64, 13);
    let r = uniform(&[2, OUT], DType::F64, 14);
    let loss = |x: &Tensor, w: &Tensor, b: &Tensor| -> f64 {
        Dense::new(w.clone(), Some(b.clone()))
            .forward(x)
            .expect("forward")
            .mul(&r)
            .expect("mul")
            .sum_all()
            .expect("sum")
            .to_scalar::<f64>()
            .expect("scalar")
    };
    let (xv, wv, bv) = (
        Var::from_tensor(&x).expect("x"),
        Var::from_tensor(&w).expect("w"),
        Var::from_tensor(&b).expect("b"),
    );
    let grads = Dense::new(wv.as_tensor().clone(), Some(bv.as_tensor().clone()))
        .forward(xv.as_tensor())
        .expect("forward")
        .mul(&r)
        .expect("mul")
        .sum_all()
        .expect("sum")
        .backward()
        .expect("backward");
    let h = 1e-6;
    let bump = |t: &Tensor, i: usize, d: f64| -> Tensor {
        let mut v = values(t);
        v[i] += d;
        Tensor::from_vec(v, t.shape(), &Device::Cpu).expect("bumped")
    };
    // Every input element, and a spread of weight and bias elements
    // (including the last, ragged column block).
    let cases: Vec<(&str, usize)> = (0..6)
        .map(|i| ("x", i))
        .chain([0, 1, 2048, 3 * OUT - 1, 2 * OUT + 8190].map(|i| ("w", i)))
        .chain([0, 4096, OUT - 1].map(|i| ("b", i)))
        .collect();
    for (name, i) in cases {
        let (plus, minus) = match name {
            "x" => (
                loss(&bump(&x, i, h), &w, &b),
                loss(&bump(&x, i, -h), &w, &b),
            ),
            "w" => (
                loss(&x, &bump(&w, i, h), &b),
                loss(&x, &bump(&w, i, -h), &b),
            ),
            _ => (
                loss(&x, &w, &bump(&b, i, h)),
                loss(&x, &w, &bump(&b, i, -h)),
            ),
        };
        let numeric = (plus - minus) / (2.0 * h);
        let var = match name {
            "x" => &xv,
            "w" => &wv,
            _ => &bv,
        };
        let analytic = values(grads.get(var.as_tensor()).expect("gradient"))[i];
        assert!(
            (numeric - analytic).abs() < 1e-6 * (1.0 + analytic.abs()),
            "d/d{name}[{i}]: numeric {numeric} analytic {analytic}"
        );
    }
}

/// A frozen layer (detached parameters, as attacks build models) gives the
/// input its gradient and computes none for the parameters; a constant
/// input gets none either.
#[test]
fn only_the_gradients_some_variable_needs() {
    let x = Var::from_tensor(&uniform(&[4, 6], DType::F32, 21)).expect("x");
    let w = uniform(&[6, OUT], DType::F32, 22);
    let b = uniform(&[OUT], DType::F32, 23);
    let frozen = Dense::new(w.clone(), Some(b.clone()));
    let grads = frozen
        .forward(x.as_tensor())
        .expect("forward")
        .sum_all()
        .expect("sum")
        .backward()
        .expect("backward");
    assert!(grads.get(&w).is_none() && grads.get(&b).is_none());
    let want = frozen
        .forward_reference(x.as_tensor())
        .expect("reference")
        .sum_all()
        .expect("sum")
        .backward()
        .expect("backward");
    assert_close(
        grads.get(x.as_tensor()).expect("dx"),
        want.get(x.as_tensor()).expect("reference dx"),
        1e-5,
        "dx of a frozen layer",
    );
    let wv = Var::from_tensor(&w).expect("w");
    let constant_x = x.as_tensor().detach();
    let grads = Dense::new(wv.as_tensor().clone(), None)
        .forward(&constant_x)
        .expect("forward")
        .sum_all()
        .expect("sum")
        .backward()
        .expect("backward");
    assert!(grads.get(&constant_x).is_none());
    assert!(grads.get(wv.as_tensor()).is_some());
}

#[test]
fn mismatched_shapes_are_errors() {
    let layer = Dense::new(uniform(&[6, OUT], DType::F32, 31), None);
    let err = layer
        .forward(&uniform(&[4, 5], DType::F32, 32))
        .expect_err("5 inputs for a 6-input layer");
    assert!(err.to_string().contains("disagree"), "{err}");
}

/// A layer stored in column panels (`(out / 16, in, 16)`): its products
/// (`panel_gemm.rs`) against candle's tensor ops on the `(in, out)` matrix,
/// forward and every gradient, in f32 and f64, at batches that leave
/// partial register tiles and span two row blocks, with an input width that
/// is not a multiple of 16.
#[test]
fn column_panel_path_matches_tensor_ops_forward_and_every_gradient() {
    const WIDE: usize = 8192 + 48;
    // `dx` sums 8,240 products of terms in [−1, 1] in another order than
    // candle's matmul (blocks of 256, fused multiply-adds): a random-walk
    // rounding error of about √n·ε·‖terms‖₂ ≈ 91 × 6·10⁻⁸ × 30 ≈ 1.6·10⁻⁴ in
    // f32 (observed up to 3.5·10⁻⁵), 3·10⁻¹³ in f64.
    for (dtype, tol) in [(DType::F32, 3e-4), (DType::F64, 1e-11)] {
        for (batch, inputs, bias) in [(5, 7, true), (50, 20, false), (70, 33, true)] {
            let x = Var::from_tensor(&uniform(&[batch, inputs], dtype, 21)).expect("x");
            let w = Var::from_tensor(&uniform(&[inputs, WIDE], dtype, 22)).expect("w");
            let panels =
                Var::from_tensor(&sgbn_layers::to_column_panels(w.as_tensor()).expect("p"))
                    .expect("panels");
            let b = Var::from_tensor(&uniform(&[WIDE], dtype, 23)).expect("b");
            let bias_t = bias.then(|| b.as_tensor().clone());
            let fast_layer = Dense::new(panels.as_tensor().clone(), bias_t.clone());
            assert!(fast_layer.in_column_panels());
            let reference_layer = Dense::new(w.as_tensor().clone(), bias_t);
            let r = uniform(&[batch, WIDE], dtype, 24);
            let yf = fast_layer.forward(x.as_tensor()).expect("fast");
            let yr = reference_layer
                .forward_reference(x.as_tensor())
                .expect("reference");
            let what = format!("{dtype:?} batch {batch} in {inputs} bias {bias}");
            assert_close(&yf, &yr, tol, &format!("{what}: output"));
            // The panel layer's own reference path (unpacking the panels).
            assert_close(
                &fast_layer.forward_reference(x.as_tensor()).expect("ref"),
                &yr,
                tol,
                &format!("{what}: output through the unpacked panels"),
            );
            let gf = yf
                .mul(&r)
                .expect("m")
                .sum_all()
                .expect("s")
                .backward()
                .expect("b");
            let gr = yr
                .mul(&r)
                .expect("m")
                .sum_all()
                .expect("s")
                .backward()
                .expect("b");
            assert_close(
                gf.get(x.as_tensor()).expect("dx"),
                gr.get(x.as_tensor()).expect("dx"),
                tol,
                &format!("{what}: gradient to x"),
            );
            let dw_panels = gf.get(panels.as_tensor()).expect("dW");
            assert_eq!(dw_panels.dims(), panels.as_tensor().dims());
            assert_close(
                dw_panels,
                &sgbn_layers::to_column_panels(gr.get(w.as_tensor()).expect("dW")).expect("p"),
                tol,
                &format!("{what}: gradient to the weight"),
            );
            if bias {
                assert_close(
                    gf.get(b.as_tensor()).expect("db"),
                    gr.get(b.as_tensor()).expect("db"),
                    tol,
                    &format!("{what}: gradient to the bias"),
                );
            }
        }
    }
}

/// `dense` stores a wide CPU layer in column panels and every other one
/// `(in, out)`; `weight_matrix` gives `(in, out)` either way.
#[test]
fn dense_stores_wide_cpu_layers_in_column_panels() {
    use sgbn_layers::{DenseConfig, SeededVarMap, dense, stores_column_panels};
    let vars = SeededVarMap::new(3);
    let vb = vars.var_builder(DType::F32, &Device::Cpu);
    let wide = dense(12, 8192 + 16, DenseConfig::default(), vb.pp("wide")).expect("wide");
    assert_eq!(wide.weight().dims(), &[513, 12, 16]);
    assert_eq!(wide.weight_matrix().expect("m").dims(), &[12, 8192 + 16]);
    let ragged = dense(12, 8192 + 8, DenseConfig::default(), vb.pp("ragged")).expect("ragged");
    assert_eq!(ragged.weight().dims(), &[12, 8192 + 8]);
    let narrow = dense(12, 64, DenseConfig::default(), vb.pp("narrow")).expect("narrow");
    assert_eq!(narrow.weight().dims(), &[12, 64]);
    assert!(stores_column_panels(8192, DType::F64, &Device::Cpu));
    assert!(!stores_column_panels(8192, DType::BF16, &Device::Cpu));
    assert!(!stores_column_panels(8176, DType::F32, &Device::Cpu));
}
