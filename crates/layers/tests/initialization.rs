//! Initial values: uniform bounds for conv and dense weights, bias
//! initializations, and refusals of values that cannot work.

use candle_core::{DType, Device};
use sgbn_layers::{BiasInit, DenseConfig, MaskedConv2dConfig, SeededVarMap, dense, masked_conv2d};

fn values(t: &candle_core::Tensor) -> Vec<f32> {
    t.flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values")
}

#[test]
fn bias_initializations_give_what_they_say() {
    let vars = SeededVarMap::new(1);
    let vb = vars.var_builder(DType::F32, &Device::Cpu);
    let config = |bias_init| DenseConfig {
        bias: true,
        uniform_bound: Some(1.0),
        bias_init,
    };
    dense(64, 200, config(BiasInit::Const(0.1)), vb.pp("a")).expect("const");
    dense(64, 200, config(BiasInit::Uniform(1.0)), vb.pp("b")).expect("uniform");
    dense(64, 200, config(BiasInit::Zero), vb.pp("c")).expect("zero");
    let get = |name: &str| values(vars.get(name).expect(name).as_tensor());
    assert!(get("a.bias").iter().all(|v| *v == 0.1));
    let b = get("b.bias");
    assert!(
        b.iter().all(|v| v.abs() <= 1.0)
            && b.iter().any(|v| *v < -0.5)
            && b.iter().any(|v| *v > 0.5)
    );
    assert!(get("c.bias").iter().all(|v| *v == 0.0));
    // U(−1, 1) weights, not Glorot's bound √(6 / 264) ≈ 0.15.
    assert!(get("a.weight").iter().any(|v| v.abs() > 0.9));
}

#[test]
fn a_conv_weight_takes_a_uniform_bound_and_bad_values_are_refused() {
    let vars = SeededVarMap::new(2);
    let vb = vars.var_builder(DType::F32, &Device::Cpu);
    let config = |uniform_bound| MaskedConv2dConfig {
        uniform_bound,
        ..MaskedConv2dConfig::default()
    };
    masked_conv2d(8, 16, 5, config(Some(1.0)), vb.pp("wide")).expect("U(−1, 1)");
    masked_conv2d(8, 16, 5, config(None), vb.pp("glorot")).expect("Glorot");
    let max = |name: &str| {
        values(vars.get(name).expect(name).as_tensor())
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()))
    };
    assert!(max("wide.weight") > 0.9 && max("wide.weight") <= 1.0);
    assert!(max("glorot.weight") < 0.2);
    let e = masked_conv2d(8, 16, 5, config(Some(-1.0)), vb.pp("bad")).expect_err("negative");
    assert!(e.to_string().contains("-1"), "{e}");
    let e = dense(
        4,
        4,
        DenseConfig {
            bias_init: BiasInit::Uniform(f64::NAN),
            ..DenseConfig::default()
        },
        vb.pp("nan"),
    )
    .expect_err("NaN bound");
    assert!(e.to_string().contains("NaN"), "{e}");
}
