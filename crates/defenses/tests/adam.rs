//! The fused in-place Adam computes what the reference (tensor-op) Adam
//! computes.

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use sgbn_defenses::{Adam, AdamConfig};
use sgbn_estimators::SeededRng;

fn vars(seed: u64) -> Vec<(String, Var)> {
    let mut r = SeededRng::seed_from_u64(seed);
    [(3usize, 5usize), (70_000, 1), (1, 7)]
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let v: Vec<f32> = (0..a * b).map(|_| r.random_range(-1.0..1.0)).collect();
            let t = Tensor::from_vec(v, (a, b), &Device::Cpu).expect("tensor");
            (format!("p{i}"), Var::from_tensor(&t).expect("var"))
        })
        .collect()
}

/// A loss whose gradient is a fresh random tensor per step (and per var),
/// plus a square term so the gradient depends on the weights.
fn step(adam: &mut Adam, vars: &[(String, Var)], step: u64) {
    let mut r = SeededRng::seed_from_u64(100 + step);
    let mut loss = Tensor::zeros((), DType::F32, &Device::Cpu).expect("zero");
    for (_, v) in vars {
        let n = v.elem_count();
        let c: Vec<f32> = (0..n).map(|_| r.random_range(-2.0..2.0)).collect();
        let c = Tensor::from_vec(c, v.shape(), &Device::Cpu).expect("c");
        let term = ((v.as_tensor() * &c).expect("mul").sum_all().expect("sum")
            + v.as_tensor().sqr().expect("sqr").sum_all().expect("sum"))
        .expect("add");
        loss = (loss + term).expect("loss");
    }
    adam.step(&loss.backward().expect("backward"))
        .expect("step");
}

fn values(vars: &[(String, Var)]) -> Vec<f32> {
    vars.iter()
        .flat_map(|(_, v)| {
            v.as_tensor()
                .flatten_all()
                .expect("flat")
                .to_vec1::<f32>()
                .expect("vec")
        })
        .collect()
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-6 * (1.0 + x.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

#[test]
fn fused_and_reference_adam_agree_over_many_steps() {
    let config = AdamConfig {
        lr: 1e-2,
        ..AdamConfig::default()
    };
    let (fa, fb) = (vars(1), vars(1));
    let mut fused = Adam::new(fa.clone(), config).expect("fused");
    let mut reference = Adam::new(fb.clone(), config)
        .expect("reference")
        .with_fused(false);
    let start = values(&fa);
    for s in 0..20 {
        step(&mut fused, &fa, s);
        step(&mut reference, &fb, s);
    }
    assert_close(&values(&fa), &values(&fb), "weights after 20 steps");
    assert!(
        values(&fa).iter().zip(&start).any(|(a, b)| a != b),
        "nothing moved"
    );
    let (sf, nf) = fused.state();
    let (sr, nr) = reference.state();
    assert_eq!(nf, nr);
    for ((n1, t1), (n2, t2)) in sf.iter().zip(&sr) {
        assert_eq!(n1, n2);
        let v = |t: &Tensor| {
            t.flatten_all()
                .expect("flat")
                .to_vec1::<f32>()
                .expect("vec")
        };
        assert_close(&v(t1), &v(t2), n1);
    }
}

#[test]
fn fused_state_restores_into_either_path() {
    let config = AdamConfig::default();
    let a = vars(2);
    let mut first = Adam::new(a.clone(), config).expect("adam");
    for s in 0..3 {
        step(&mut first, &a, s);
    }
    let (state, n) = first.state();
    let lookup = |name: &str| {
        state
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, t)| t.clone())
    };
    // Continue three ways: the original, a restored fused, a restored reference.
    let (b, c) = (vars(2), vars(2));
    for ((_, dst), (_, src)) in b.iter().zip(&a).chain(c.iter().zip(&a)) {
        dst.set(src.as_tensor()).expect("copy weights");
    }
    let mut fused = Adam::new(b.clone(), config).expect("fused");
    fused.restore(n, &lookup).expect("restore fused");
    let mut reference = Adam::new(c.clone(), config)
        .expect("reference")
        .with_fused(false);
    reference.restore(n, &lookup).expect("restore reference");
    for s in 3..6 {
        step(&mut first, &a, s);
        step(&mut fused, &b, s);
        step(&mut reference, &c, s);
    }
    assert_eq!(
        values(&a),
        values(&b),
        "restored fused Adam continues bit for bit"
    );
    assert_close(&values(&a), &values(&c), "restored reference Adam");
}

/// Moments saved for a dense weight in the other layout (`(in, out)` or
/// column panels, `sgbn_layers::to_column_panels`) are converted like the
/// weight on restore; any other shape is an error naming the parameter.
#[test]
fn moments_of_a_dense_weight_in_the_other_layout_are_converted() {
    let panels = Tensor::zeros((2, 3, 16), DType::F32, &Device::Cpu).expect("zeros");
    let w = Var::from_tensor(&panels).expect("var");
    let mut adam = Adam::new(vec![("l.weight".into(), w)], AdamConfig::default()).expect("adam");
    let m = Tensor::arange(0f32, 96.0, &Device::Cpu)
        .expect("arange")
        .reshape((3, 32))
        .expect("matrix");
    let v = (&m * 2.0).expect("v");
    let lookup = |name: &str| match name {
        "adam.m.l.weight" => Some(m.clone()),
        "adam.v.l.weight" => Some(v.clone()),
        _ => None,
    };
    adam.restore(4, &lookup).expect("restore");
    let (state, step) = adam.state();
    assert_eq!(step, 4);
    let flat = |t: &Tensor| {
        t.flatten_all()
            .expect("flat")
            .to_vec1::<f32>()
            .expect("vec")
    };
    let want = sgbn_layers::to_column_panels(&m).expect("panels");
    assert_eq!(state[0].0, "adam.m.l.weight");
    assert_eq!(state[0].1.dims(), &[2, 3, 16]);
    assert_eq!(flat(&state[0].1), flat(&want));
    assert_eq!(
        flat(&state[1].1),
        flat(&(want * 2.0).expect("v")),
        "the second moment too"
    );
    let wrong = Tensor::zeros((4, 24), DType::F32, &Device::Cpu).expect("zeros");
    let err = adam
        .restore(4, &|_| Some(wrong.clone()))
        .expect_err("another shape");
    assert!(err.to_string().contains("l.weight"), "{err}");
}
