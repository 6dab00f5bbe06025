//! The authors'-code configuration (one test per field it changes), BPDA
//! at attack time (same forward, other backward), and forward passes with
//! fixed gate masks.

use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, SlopeSchedule, uniform_like};
use sgbn_layers::{BiasInit, GateActivation, GateBpda, GateDropoutSites, GateOrder};
use sgbn_models::{Bpda, Classifier, ConvNet, DenseUnit, ForwardContext, Gated, ModelSpec};

fn images(b: usize, seed: u64) -> Tensor {
    let zeros = Tensor::zeros((b, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    uniform_like(&zeros, &mut SeededRng::seed_from_u64(seed)).expect("images")
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values")
}

fn build(name: &str) -> ConvNet {
    ConvNet::new(&ModelSpec::named(name).expect("spec"), 3, &Device::Cpu).expect("model")
}

fn param(m: &ConvNet, name: &str) -> Vec<f32> {
    values(m.vars().get(name).expect(name).as_tensor())
}

/// Input gradient of the summed logit of class 0, with `ctx`, drawing from
/// a generator seeded `seed`.
fn input_gradient(m: &ConvNet, x: &Tensor, ctx: ForwardContext, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let v = Var::from_tensor(x).expect("var");
    let logits = m
        .forward(v.as_tensor(), ctx, &mut SeededRng::seed_from_u64(seed))
        .expect("forward");
    let loss = logits.narrow(1, 0, 1).expect("col").sum_all().expect("sum");
    let g = loss.backward().expect("backward");
    let grad = g
        .get(v.as_tensor())
        .map_or_else(|| vec![0.0; x.elem_count()], values);
    (values(&logits), grad)
}

#[test]
fn the_authors_suffix_sets_every_documented_field() {
    let thesis = ModelSpec::named("sgbn").expect("sgbn");
    let authors = ModelSpec::named("sgbn-authors").expect("sgbn-authors");
    assert_eq!(authors.name, "SGBN (authors' code)");
    assert_eq!(authors.init.weight_bound, Some(1.0));
    assert_eq!(authors.init.dense_bias, BiasInit::Uniform(1.0));
    assert_eq!(
        (authors.batch_norm.eps, authors.batch_norm.momentum),
        (1e-4, 0.1)
    );
    assert_eq!(authors.slope_schedule, Some(SlopeSchedule::authors_code()));
    let gates: Vec<_> = authors
        .convs
        .iter()
        .map(|c| c.gate.clone().expect("gate"))
        .collect();
    assert_eq!(gates[0].hidden, [512, 512]);
    assert_eq!(gates[1].hidden, [1024, 512]);
    for g in &gates {
        assert_eq!(g.activation, GateActivation::Tanh);
        assert_eq!(g.order, GateOrder::BatchNormThenRelu);
        assert_eq!(
            (g.dropout, g.dropout_sites),
            (0.5, GateDropoutSites::StateOnly)
        );
        assert_eq!(
            (g.uniform_bound, g.conv_uniform_bound),
            (Some(1.0), Some(1.0))
        );
        assert_eq!(
            (g.hidden1_bias, g.bias_init),
            (BiasInit::Const(0.1), BiasInit::Uniform(1.0))
        );
    }
    // The thesis-text model keeps every default, so its key is unchanged.
    assert_eq!(thesis.init, Default::default());
    assert_eq!(thesis.slope_schedule, None);
    let json = serde_json::to_string(&thesis).expect("json");
    for field in [
        "init",
        "batch_norm",
        "slope_schedule",
        "order",
        "dropout_sites",
        "bias_init",
    ] {
        assert!(!json.contains(&format!("\"{field}\"")), "{field} in {json}");
    }
    // The other suffixed models.
    for name in [
        "cnn-authors",
        "cnn-bin-authors",
        "sgbn-dt-authors",
        "sap-authors",
    ] {
        let s = ModelSpec::named(name).expect(name);
        assert_eq!(s.init.weight_bound, Some(1.0), "{name}");
        assert_eq!(
            s.slope_schedule.is_some(),
            s.dense_unit != DenseUnit::Relu,
            "{name}"
        );
    }
    assert!(
        ModelSpec::named("mlp-ste-authors").is_err(),
        "chapter 4 only"
    );
}

#[test]
fn the_authors_model_is_built_with_their_initial_values() {
    let m = build("sgbn-authors");
    let spread = |v: &[f32]| {
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!(max <= 1.0, "U(−1, 1): {max}");
        max
    };
    // Glorot bounds for these layers are below 0.35; U(−1, 1) reaches 0.99
    // among thousands of draws.
    for name in [
        "conv0.weight",
        "conv1.weight",
        "hidden.weight",
        "output.weight",
        "gate0.conv.weight",
        "gate1.hidden2.weight",
    ] {
        assert!(spread(&param(&m, name)) > 0.95, "{name}");
    }
    for name in [
        "hidden.bias",
        "output.bias",
        "gate1.hidden2.bias",
        "gate1.logits.bias",
    ] {
        let b = param(&m, name);
        assert!(
            spread(&b) > 0.5 && b.iter().any(|v| *v < 0.0),
            "{name}: U(−1, 1)"
        );
    }
    assert!(param(&m, "gate0.hidden1.bias").iter().all(|v| *v == 0.1));
    // Gate 2's first hidden layer is 1024 wide.
    assert_eq!(param(&m, "gate1.hidden1.bias").len(), 1024);
    assert_eq!(param(&m, "gate1.hidden2.bias").len(), 512);
    let thesis = build("sgbn");
    assert!(spread(&param(&thesis, "hidden.weight")) < 0.35, "Glorot");
    assert!(param(&thesis, "hidden.bias").iter().all(|v| *v == 0.0));
    // And it classifies, in training and evaluation.
    let x = images(4, 1);
    let mut rng = SeededRng::seed_from_u64(0);
    for ctx in [ForwardContext::train(1.0), ForwardContext::eval(1.0)] {
        let z = m.forward(&x, ctx, &mut rng).expect("forward");
        assert_eq!(z.dims(), [4, 10]);
        assert!(values(&z).iter().all(|v| v.is_finite()));
    }
}

#[test]
fn bpda_leaves_the_forward_pass_and_changes_only_the_backward() {
    let x = images(6, 2);
    for (name, bpda) in [
        (
            "cnn-bin",
            Bpda {
                dense_unit: true,
                ..Bpda::default()
            },
        ),
        (
            "sgbn",
            Bpda {
                gate: GateBpda {
                    activation: true,
                    sampling: false,
                },
                ..Bpda::default()
            },
        ),
        (
            "sgbn-dt",
            Bpda {
                gate: GateBpda {
                    sampling: true,
                    activation: false,
                },
                ..Bpda::default()
            },
        ),
        ("sgbn", Bpda::all()),
    ] {
        let m = build(name);
        let plain = ForwardContext::eval(1.0);
        let (z0, g0) = input_gradient(&m, &x, plain, 7);
        let (z1, g1) = input_gradient(&m, &x, plain.with_bpda(bpda), 7);
        assert_eq!(z0, z1, "{name}: same logits, same draws");
        assert_ne!(g0, g1, "{name} {bpda:?}: another gradient");
    }
    // The hard STE of SGBN (ST) already passes gradients straight through σ
    // and the sampling: BPDA of the sampling alone changes nothing there.
    let m = build("sgbn");
    let plain = ForwardContext::eval(1.0);
    let sampling = Bpda {
        gate: GateBpda {
            sampling: true,
            activation: false,
        },
        ..Bpda::default()
    };
    assert_eq!(
        input_gradient(&m, &x, plain, 7),
        input_gradient(&m, &x, plain.with_bpda(sampling), 7)
    );
}

#[test]
fn a_saturated_binary_unit_hides_the_gradient_that_bpda_recovers() {
    // At slope 1e8 every |m·a| is huge: σ'(m·a) underflows to 0 in f32 and
    // the soft STE passes no gradient at all (hypothesis (i) of the protocol
    // study); BPDA passes it through.
    let m = build("cnn-bin");
    let x = images(4, 3);
    let steep = ForwardContext::eval(1e8);
    let (_, soft) = input_gradient(&m, &x, steep, 1);
    let (_, bpda) = input_gradient(
        &m,
        &x,
        steep.with_bpda(Bpda {
            dense_unit: true,
            ..Bpda::default()
        }),
        1,
    );
    assert!(soft.iter().all(|g| *g == 0.0), "saturated soft STE");
    assert!(bpda.iter().filter(|g| **g != 0.0).count() > x.elem_count() / 2);
    // The unit's input is recorded for the saturation metrics.
    let mi = m.dense_unit_input().expect("m·a");
    assert_eq!(mi.dims(), [4, 100]);
    assert!(values(&mi).iter().any(|v| v.abs() > 1e6));
    assert!(build("cnn").dense_unit_input().is_none());
}

#[test]
fn fixed_gate_masks_reproduce_the_pass_that_drew_them_and_cut_the_gate_path() {
    // SGBN-ReLU: stochastic gates, deterministic rest.
    let m = build("sgbn-relu");
    let x = images(5, 4);
    let ctx = ForwardContext::eval(1.0);
    let z = m
        .forward(&x, ctx, &mut SeededRng::seed_from_u64(9))
        .expect("forward");
    let masks: Vec<Option<Tensor>> = m
        .gate_traces()
        .into_iter()
        .map(|t| t.map(|t| t.masks))
        .collect();
    let again = m
        .forward_with_gate_masks(&x, ctx, &masks, &mut SeededRng::seed_from_u64(123))
        .expect("fixed");
    assert_eq!(
        values(&z),
        values(&again),
        "the same masks give the same logits"
    );
    // The gradient through fixed masks lacks the gate path's share.
    let v = Var::from_tensor(&x).expect("var");
    let fixed = m
        .forward_with_gate_masks(v.as_tensor(), ctx, &masks, &mut SeededRng::seed_from_u64(1))
        .expect("fixed")
        .sum_all()
        .expect("sum");
    let g_fixed = values(
        fixed
            .backward()
            .expect("bw")
            .get(v.as_tensor())
            .expect("grad"),
    );
    let (_, g_full) = input_gradient(&m, &x, ctx, 9);
    assert_ne!(g_fixed, g_full);
    // Wrong shapes and ungated models are refused.
    assert!(
        m.forward_with_gate_masks(&x, ctx, &masks[..1], &mut SeededRng::seed_from_u64(0))
            .is_err()
    );
    assert!(
        build("cnn")
            .forward_with_gate_masks(&x, ctx, &[None, None], &mut SeededRng::seed_from_u64(0))
            .is_err()
    );
    assert!(build("cnn").as_gated().is_none() && m.as_gated().is_some());
}
