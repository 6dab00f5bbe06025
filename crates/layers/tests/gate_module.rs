//! The gate module (Tables 4.1–4.4): shapes, outputs, traces, gradients to
//! every parameter, finite differences on its smooth path, determinism.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::values;
use rand::SeedableRng;
use sgbn_estimators::{GradientCoverage, SeededRng, uniform_like};
use sgbn_layers::{
    ConvGeometry, GateActivation, GateConfig, GateModule, GateOutput, MaskedConv2dConfig,
    SeededVarMap, asinh, gate_module, masked_conv2d,
};

fn images(b: usize, c: usize, hw: usize, dtype: DType, seed: u64) -> Tensor {
    let zeros = Tensor::zeros((b, c, hw, hw), dtype, &Device::Cpu).expect("zeros");
    uniform_like(&zeros, &mut SeededRng::seed_from_u64(seed)).expect("uniform")
}

/// The first gate of the MNIST SGBN: conv 1→32, 5×5, stride 2 on 28×28.
fn mnist_gate1() -> ConvGeometry {
    ConvGeometry {
        in_channels: 1,
        height: 28,
        width: 28,
        kernel: 5,
        stride: 2,
        padding: 0,
    }
}

fn small() -> ConvGeometry {
    ConvGeometry {
        in_channels: 2,
        height: 7,
        width: 7,
        kernel: 3,
        stride: 2,
        padding: 0,
    }
}

fn build(
    geometry: ConvGeometry,
    out: usize,
    config: GateConfig,
    dtype: DType,
    seed: u64,
) -> (SeededVarMap, GateModule) {
    let store = SeededVarMap::new(seed);
    let gate = gate_module(
        geometry,
        out,
        config,
        store.var_builder(dtype, &Device::Cpu).pp("gate"),
    )
    .expect("gate");
    (store, gate)
}

#[test]
fn mnist_gate_shapes_and_binary_masks() {
    let (store, gate) = build(
        mnist_gate1(),
        32,
        GateConfig {
            activation: GateActivation::Asinh,
            ..Default::default()
        },
        DType::F32,
        1,
    );
    // Table 4.1: the output layer has 800 = 5·5·32·1 logits.
    let logits = store.get("gate.logits.weight").expect("logits");
    assert_eq!(logits.as_tensor().dims(), [512, 800]);
    assert_eq!(
        store
            .get("gate.hidden1.weight")
            .expect("h1")
            .as_tensor()
            .dims(),
        [32 * 12 * 12, 512]
    );
    let x = images(4, 1, 28, DType::F32, 2);
    let mut rng = SeededRng::seed_from_u64(3);
    let masks = gate.masks(&x, None, true, &mut rng).expect("masks");
    assert_eq!(masks.dims(), [4, 32, 1, 5, 5]);
    assert!(values(&masks).iter().all(|v| *v == 0.0 || *v == 1.0));
    let trace = gate.last_trace().expect("trace");
    assert_eq!(trace.probabilities.dims(), masks.dims());
    assert_eq!(values(&trace.masks), values(&masks));
    let p = values(&trace.probabilities);
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
    // Masks differ between inputs: the gate looks at each input.
    assert_ne!(
        values(&masks.get(0).expect("m0")),
        values(&masks.get(1).expect("m1"))
    );
}

#[test]
fn dt_gate_outputs_probabilities_and_pm1_gate_outputs_signs() {
    let x = images(3, 2, 7, DType::F32, 4);
    let (_, dt) = build(
        small(),
        4,
        GateConfig {
            hidden: [8, 6],
            output: GateOutput::Sigmoid,
            ..Default::default()
        },
        DType::F32,
        5,
    );
    let mut rng = SeededRng::seed_from_u64(6);
    let masks = dt.masks(&x, None, false, &mut rng).expect("masks");
    assert_eq!(
        values(&masks),
        values(&dt.last_trace().expect("trace").probabilities)
    );
    // Deterministic: the same input gives the same masks whatever the draws.
    let again = dt
        .masks(&x, None, false, &mut SeededRng::seed_from_u64(99))
        .expect("masks");
    assert_eq!(values(&masks), values(&again));

    let (_, pm) = build(
        small(),
        4,
        GateConfig {
            hidden: [8, 6],
            output: GateOutput::StochasticSign,
            ..Default::default()
        },
        DType::F32,
        5,
    );
    let masks = pm.masks(&x, None, true, &mut rng).expect("masks");
    assert!(values(&masks).iter().all(|v| *v == -1.0 || *v == 1.0));
}

#[test]
fn same_seed_same_parameters_and_masks() {
    let run = |seed| {
        let (_, gate) = build(
            small(),
            4,
            GateConfig {
                hidden: [8, 6],
                dropout: 0.5,
                ..Default::default()
            },
            DType::F32,
            seed,
        );
        let x = images(3, 2, 7, DType::F32, 4);
        values(
            &gate
                .masks(&x, None, true, &mut SeededRng::seed_from_u64(seed))
                .expect("m"),
        )
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

/// Every gate parameter (and the gated conv's weight) gets a gradient
/// through the hard-STE masks; running statistics are buffers, not
/// trainable parameters.
#[test]
fn every_parameter_gets_a_gradient_through_the_hard_ste() {
    for output in [
        GateOutput::HardSte,
        GateOutput::Sigmoid,
        GateOutput::StochasticSign,
    ] {
        for activation in [GateActivation::Asinh, GateActivation::Tanh] {
            let store = SeededVarMap::new(21);
            let vb = store.var_builder(DType::F32, &Device::Cpu);
            let config = GateConfig {
                hidden: [8, 6],
                output,
                activation,
                dropout: 0.2,
                ..Default::default()
            };
            let gate = gate_module(small(), 4, config, vb.pp("gate")).expect("gate");
            let conv = masked_conv2d(
                2,
                4,
                3,
                MaskedConv2dConfig {
                    stride: 2,
                    padding: 0,
                    bias: false,
                    ..Default::default()
                },
                vb.pp("conv"),
            )
            .expect("conv");
            let x = images(5, 2, 7, DType::F32, 22);
            let mut rng = SeededRng::seed_from_u64(23);
            let masks = gate.masks(&x, None, true, &mut rng).expect("masks");
            let y = conv.forward_masked(&x, Some(&masks)).expect("conv");
            let loss = y.sqr().expect("sq").mean_all().expect("mean");
            let grads = loss.backward().expect("backward");
            let vars = store.vars();
            let trainable: Vec<(&str, &Tensor)> = vars
                .iter()
                .filter(|(name, _)| !name.contains("running_"))
                .map(|(n, v)| (n.as_str(), v.as_tensor()))
                .collect();
            assert_eq!(
                trainable.len(),
                12,
                "{:?}",
                vars.iter().map(|v| &v.0).collect::<Vec<_>>()
            );
            let report = GradientCoverage::check(trainable, &grads).expect("check");
            report
                .ensure_complete()
                .unwrap_or_else(|e| panic!("{output:?} {activation:?}: {e}"));
        }
    }
}

#[test]
fn shared_weight_gate_trains_the_main_conv_weight() {
    let store = SeededVarMap::new(31);
    let vb = store.var_builder(DType::F32, &Device::Cpu);
    let gate = gate_module(
        small(),
        4,
        GateConfig {
            hidden: [8, 6],
            ..Default::default()
        },
        vb.pp("gate"),
    )
    .expect("gate");
    let w = Var::from_tensor(&images(4, 2, 3, DType::F32, 32)).expect("w");
    let x = images(5, 2, 7, DType::F32, 33);
    let mut rng = SeededRng::seed_from_u64(34);
    let masks = gate
        .masks(&x, Some(w.as_tensor()), true, &mut rng)
        .expect("masks");
    let loss = masks.sum_all().expect("sum");
    let grads = loss.backward().expect("backward");
    assert!(
        grads.get(w.as_tensor()).is_some(),
        "the shared weight learns through the gate"
    );
    let own = store.get("gate.conv.weight").expect("own conv");
    assert!(
        grads.get(own.as_tensor()).is_none(),
        "the gate's own conv is unused with 1W"
    );
}

/// Central finite differences through the gate's smooth path (DT output,
/// batch norm in eval mode), in f64.
#[test]
fn smooth_path_gradients_match_finite_differences() {
    for activation in [GateActivation::Asinh, GateActivation::Tanh] {
        let (store, gate) = build(
            small(),
            3,
            GateConfig {
                hidden: [5, 4],
                activation,
                output: GateOutput::Sigmoid,
                ..Default::default()
            },
            DType::F64,
            41,
        );
        let x = Var::from_tensor(&images(2, 2, 7, DType::F64, 42)).expect("x");
        let r = images(2, 3 * 2 * 9, 1, DType::F64, 43)
            .reshape((2, 3, 2, 3, 3))
            .expect("r");
        let loss_t = || {
            let mut rng = SeededRng::seed_from_u64(0);
            gate.masks(x.as_tensor(), None, false, &mut rng)
                .expect("masks")
                .mul(&r)
                .expect("mul")
                .sum_all()
                .expect("sum")
        };
        let grads = loss_t().backward().expect("backward");
        let loss = || loss_t().to_scalar::<f64>().expect("scalar");
        let mut checked = vec![("x".to_string(), x.clone())];
        for name in [
            "gate.conv.weight",
            "gate.hidden1.weight",
            "gate.hidden2.bias",
            "gate.logits.weight",
            "gate.conv_bn.weight",
            "gate.hidden1_bn.bias",
        ] {
            checked.push((name.to_string(), store.get(name).expect(name)));
        }
        for (name, var) in checked {
            let analytic = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{name}"));
            // A spread of entries keeps the test fast on the larger matrices.
            let stride = (var.as_tensor().elem_count() / 40).max(1);
            common::check_finite_differences(
                &format!("{activation:?} {name}"),
                &var,
                analytic,
                stride,
                &loss,
            );
        }
    }
}

#[test]
fn asinh_is_exact_and_has_the_exact_gradient() {
    let xs: [f64; 9] = [-1.0e4, -3.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 2.0, 1.0e4];
    let x = Var::from_tensor(&Tensor::new(&xs, &Device::Cpu).expect("x")).expect("var");
    let y = asinh(x.as_tensor()).expect("asinh");
    for (v, x) in values(&y).iter().zip(xs) {
        assert_eq!(*v, x.asinh());
    }
    let grads = y.sum_all().expect("sum").backward().expect("backward");
    for (g, x) in values(grads.get(x.as_tensor()).expect("grad"))
        .iter()
        .zip(xs)
    {
        assert!((g - 1.0 / (x * x + 1.0).sqrt()).abs() <= 1e-15, "{x}: {g}");
    }
}

#[test]
fn invalid_configurations_are_errors() {
    let store = SeededVarMap::new(0);
    let vb = store.var_builder(DType::F32, &Device::Cpu);
    for dropout in [1.0, -0.1, f64::NAN] {
        let config = GateConfig {
            dropout,
            ..Default::default()
        };
        assert!(
            gate_module(small(), 4, config, vb.pp("g")).is_err(),
            "{dropout}"
        );
    }
    let too_big = ConvGeometry {
        kernel: 9,
        ..small()
    };
    assert!(gate_module(too_big, 4, GateConfig::default(), vb.pp("h")).is_err());
}
