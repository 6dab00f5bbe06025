//! The named models: shapes, gradients to every parameter, determinism,
//! stochasticity, gate traces, bad specs.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use sgbn_estimators::{
    GradientCoverage, ReinforceBaseline, ReinforceBaselineConfig, SeededRng, uniform_like,
};
use sgbn_models::{
    Classifier, ConvNet, DenseUnit, ForwardContext, Gated, MODEL_NAMES, ModelError, ModelSpec,
};

fn images(b: usize, seed: u64) -> Tensor {
    let zeros = Tensor::zeros((b, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    uniform_like(&zeros, &mut SeededRng::seed_from_u64(seed)).expect("images")
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values")
}

fn build(name: &str, seed: u64) -> ConvNet {
    ConvNet::new(&ModelSpec::named(name).expect("spec"), seed, &Device::Cpu).expect("model")
}

fn param_count(m: &ConvNet) -> usize {
    m.trainable()
        .iter()
        .map(|(_, v)| v.as_tensor().elem_count())
        .sum()
}

#[test]
fn every_named_model_builds_and_classifies() {
    let x = images(3, 1);
    for name in MODEL_NAMES {
        let m = build(name, 2);
        let logits = m
            .forward(
                &x,
                ForwardContext::train(1.0),
                &mut SeededRng::seed_from_u64(3),
            )
            .expect("forward");
        assert_eq!(logits.dims(), [3, 10], "{name}");
        assert!(values(&logits).iter().all(|v| v.is_finite()), "{name}");
        // A gate probe stops at its gate: later gates do not run.
        let ran = m.spec().probe.map_or(m.spec().convs.len(), |p| p.gate + 1);
        let gated = m.spec().convs[..ran]
            .iter()
            .filter(|c| c.gate.is_some())
            .count();
        let traces = m.gate_traces();
        assert_eq!(
            traces.iter().filter(|t| t.is_some()).count(),
            gated,
            "{name}"
        );
    }
}

#[test]
fn parameter_counts_follow_the_architecture() {
    // conv 1→32 (800) + conv 32→64 (51,200) + BN (2·32 + 2·64) + dense
    // 1024→100 (102,500) + dense 100→10 (1,010).
    let cnn = 800 + 51_200 + 192 + 102_500 + 1_010;
    assert_eq!(param_count(&build("cnn", 0)), cnn);
    for name in ["cnn-bin", "sap", "dropconnect", "random-mask"] {
        assert_eq!(param_count(&build(name, 0)), cnn, "{name}");
    }
    // Gate 1 (Table 4.1): conv 800 + BN 64 + dense 4608→512 + BN 1024 +
    // 512→512 + 512→800. Gate 2 (Table 4.2): conv 51,200 + BN 128 +
    // 1024→512 + BN 1024 + 512→512 + 512→51,200.
    let dense = |i: usize, o: usize| i * o + o;
    let gate1 = 800 + 64 + dense(4608, 512) + 1024 + dense(512, 512) + dense(512, 800);
    let gate2 = 51_200 + 128 + dense(1024, 512) + 1024 + dense(512, 512) + dense(512, 51_200);
    assert_eq!(param_count(&build("sgbn", 0)), cnn + gate1 + gate2);
    // 1-layer-SGBN (Table 4.7): conv 800 + BN 64 + dense 4608→100 + 100→10, plus gate 1.
    assert_eq!(
        param_count(&build("1-layer-sgbn", 0)),
        800 + 64 + dense(4608, 100) + dense(100, 10) + gate1
    );
    // 1W-SGBN shares the conv weights: the gates own no conv weight.
    assert_eq!(
        param_count(&build("1w-sgbn", 0)),
        cnn + gate1 + gate2 - 800 - 51_200
    );
}

#[test]
fn every_trainable_parameter_gets_a_gradient_in_a_training_step() {
    let x = images(4, 5);
    let labels = Tensor::new(&[1u32, 7, 3, 0], &Device::Cpu).expect("labels");
    for name in MODEL_NAMES {
        let m = build(name, 6);
        let logits = m
            .forward(
                &x,
                ForwardContext::train(1.0),
                &mut SeededRng::seed_from_u64(7),
            )
            .expect("forward");
        let mut loss = candle_nn::loss::cross_entropy(&logits, &labels).expect("loss");
        // REINFORCE units pass no gradient through their samples: the layers
        // below learn from the surrogate the trainer adds (eq. 2.14).
        let sample = m.take_reinforce_sample();
        assert_eq!(
            sample.is_some(),
            m.spec().dense_unit == DenseUnit::Reinforce && m.spec().hidden_bnn.is_none(),
            "{name}"
        );
        if let Some(sample) = sample {
            let per_example = Tensor::new(&[0.5f32, 1.5, 2.0, 1.0], &Device::Cpu).expect("loss");
            let mut baseline =
                ReinforceBaseline::new(ReinforceBaselineConfig::default()).expect("baseline");
            let surrogate = baseline
                .surrogate_loss(&sample, &per_example)
                .expect("surrogate");
            loss = (loss + surrogate).expect("sum");
        }
        let grads = loss.backward().expect("backward");
        let vars = m.trainable();
        let report = GradientCoverage::check(
            vars.iter().map(|(n, v)| (n.as_str(), v.as_tensor())),
            &grads,
        )
        .expect("check");
        report
            .ensure_complete()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(vars.iter().all(|(n, _)| !n.contains("running")), "{name}");
    }
}

#[test]
fn same_seed_same_model_and_outputs() {
    let x = images(2, 8);
    for name in ["cnn", "sgbn"] {
        let run = |seed| {
            let m = build(name, seed);
            let y = m
                .forward(
                    &x,
                    ForwardContext::train(1.0),
                    &mut SeededRng::seed_from_u64(9),
                )
                .expect("forward");
            let w = m
                .trainable()
                .into_iter()
                .map(|(_, v)| values(v.as_tensor()))
                .collect::<Vec<_>>();
            (values(&y), w)
        };
        assert_eq!(run(1), run(1), "{name}");
        assert_ne!(run(1).1, run(2).1, "{name}");
    }
}

#[test]
fn stochastic_models_sample_at_evaluation_and_deterministic_ones_do_not() {
    let x = images(8, 10);
    for name in MODEL_NAMES {
        let m = build(name, 11);
        // Warm the batch-norm running statistics: with their initial values
        // (mean 0, variance 1) the BNN's input batch norm passes the
        // non-negative ReLU outputs unchanged, `sign` maps them all to +1,
        // and the output does not depend on the input (or on the weights'
        // draws) at all.
        for seed in 0..20 {
            m.forward(
                &x,
                ForwardContext::train(1.0),
                &mut SeededRng::seed_from_u64(100 + seed),
            )
            .expect("warm-up");
        }
        let eval = |seed| {
            values(
                &m.forward(
                    &x,
                    ForwardContext::eval(1.0),
                    &mut SeededRng::seed_from_u64(seed),
                )
                .expect("forward"),
            )
        };
        let differ = eval(1) != eval(2);
        assert_eq!(differ, m.is_stochastic(), "{name}");
        assert_eq!(
            eval(3),
            eval(3),
            "{name}: same generator state, same output"
        );
    }
    assert!(!build("cnn", 0).is_stochastic());
    for name in ["sap", "dropconnect", "random-mask"] {
        assert!(build(name, 0).is_stochastic(), "{name}");
    }
    assert!(build("sgbn", 0).is_stochastic());
}

#[test]
fn training_updates_batch_norm_statistics_and_evaluation_does_not() {
    let m = build("cnn", 12);
    let running = || {
        m.state()
            .into_iter()
            .find(|(n, _)| n == "bn0.running_mean")
            .map(|(_, v)| values(v.as_tensor()))
            .expect("running mean")
    };
    let before = running();
    let x = images(4, 13);
    m.forward(
        &x,
        ForwardContext::eval(1.0),
        &mut SeededRng::seed_from_u64(0),
    )
    .expect("eval");
    assert_eq!(running(), before);
    m.forward(
        &x,
        ForwardContext::train(1.0),
        &mut SeededRng::seed_from_u64(0),
    )
    .expect("train");
    assert_ne!(running(), before);
}

#[test]
fn bad_names_specs_and_inputs_are_errors() {
    let err = ModelSpec::named("resnet").expect_err("unknown");
    assert!(matches!(err, ModelError::UnknownModel { .. }));
    assert!(err.to_string().contains("sgbn-dt"), "{err}");

    let mut spec = ModelSpec::named("cnn").expect("spec");
    spec.convs[1].kernel = 13;
    assert!(matches!(
        ConvNet::new(&spec, 0, &Device::Cpu),
        Err(ModelError::InvalidSpec(_))
    ));
    let mut spec = ModelSpec::named("sgbn").expect("spec");
    if let Some(g) = spec.convs[0].gate.as_mut() {
        g.dropout = 1.5;
    }
    assert!(matches!(
        ConvNet::new(&spec, 0, &Device::Cpu),
        Err(ModelError::InvalidSpec(_))
    ));

    let m = build("cnn", 0);
    let wrong = Tensor::zeros((2, 3, 28, 28), DType::F32, &Device::Cpu).expect("x");
    assert!(
        m.forward(
            &wrong,
            ForwardContext::eval(1.0),
            &mut SeededRng::seed_from_u64(0)
        )
        .is_err()
    );
}

#[test]
fn padding_variant_changes_the_flattened_size() {
    let spec = ModelSpec::named("cnn").expect("spec").with_padding(2);
    assert_eq!(spec.validate().expect("valid"), [(14, 14), (7, 7)]);
    let m = ConvNet::new(&spec, 0, &Device::Cpu).expect("model");
    let hidden = m
        .trainable()
        .into_iter()
        .find(|(n, _)| n == "hidden.weight")
        .expect("hidden");
    assert_eq!(hidden.1.as_tensor().dims(), [64 * 7 * 7, 100]);
    assert_eq!(spec.dense_unit, DenseUnit::Relu);
}

#[test]
fn shuffled_gate_masks_come_from_other_samples() {
    let m = build("sgbn", 14);
    let x = images(6, 15);
    let ctx = ForwardContext::eval(1.0);
    let plain = m
        .forward(&x, ctx, &mut SeededRng::seed_from_u64(16))
        .expect("forward");
    let shuffled = m
        .forward(
            &x,
            ctx.with_shuffled_gate_masks(),
            &mut SeededRng::seed_from_u64(16),
        )
        .expect("forward");
    assert_ne!(values(&plain), values(&shuffled));
    for n in [2usize, 3, 7, 50] {
        let d = sgbn_models::derangement(n, &mut SeededRng::seed_from_u64(n as u64));
        let mut sorted = d.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n as u32).collect::<Vec<_>>(), "a permutation");
        assert!(
            d.iter().enumerate().all(|(b, s)| *s as usize != b),
            "no sample keeps its own"
        );
    }
}

#[test]
fn analytic_flop_counts() {
    // CNN, VALID padding: conv1 32@5×5/2 on 28² → 12², conv2 64@5×5/2 → 4²,
    // dense 1024 → 100 → 10.
    let cnn = ModelSpec::named("cnn").expect("cnn").forward_flops();
    assert_eq!(cnn.convs, 2 * (32 * 25 * 144 + 64 * 800 * 16));
    assert_eq!(cnn.dense, 2 * (1024 * 100 + 100 * 10));
    assert_eq!(cnn.gates, 0);
    // SGBN with padding 2 (the PyTorch variant): 11.28 GFLOP per training
    // step of 50, the figure an independent count of the same network gave
    // (PyTorch's VALID/SAME padding variant, counted by hand).
    let sgbn = ModelSpec::named("sgbn").expect("sgbn").with_padding(2);
    let step = sgbn.training_step_flops(50) as f64 / 1e9;
    assert!((step - 11.28).abs() < 0.01, "{step} GFLOP");
    assert_eq!(sgbn.fgsm_flops(500), 10 * sgbn.training_step_flops(50));
}

#[test]
fn size_variants_cifar10_and_added_parameters() {
    // §4.3.1 CIFAR-10: 32 → 16 (8×8/2, padding 3) → 6 (6×6/2) → 2 (5×5/1).
    let cifar = ModelSpec::named("cifar10-cnn").expect("cifar");
    assert_eq!(cifar.input, [3, 32, 32]);
    assert_eq!(cifar.validate().expect("sizes"), [(16, 16), (6, 6), (2, 2)]);
    let m = ConvNet::new(&cifar, 0, &Device::Cpu).expect("cifar model");
    let x = Tensor::zeros((2, 3, 32, 32), DType::F32, &Device::Cpu).expect("x");
    let y = m
        .forward(
            &x,
            ForwardContext::eval(1.0),
            &mut SeededRng::seed_from_u64(0),
        )
        .expect("forward");
    assert_eq!(y.dims(), [2, 10]);
    // Every chapter-4 model has a CIFAR-10 form with three gates / BNN layers.
    let sgbn = ModelSpec::named("cifar10-sgbn").expect("cifar sgbn");
    assert_eq!(sgbn.convs.iter().filter(|c| c.gate.is_some()).count(), 3);
    sgbn.validate().expect("valid");
    let bnn = ModelSpec::named("cifar10-bnn-pgd").expect("cifar bnn");
    assert!(bnn.convs[0].bnn.is_none() && bnn.convs[1].bnn.is_some() && bnn.convs[2].bnn.is_some());
    // Table 4.13: 64, 256, 256 filters of 5×5 and a hidden layer of 1,176.
    let wide = ModelSpec::named("cifar10-cnn-add-params").expect("wide cifar");
    let filters: Vec<usize> = wide.convs.iter().map(|c| c.filters).collect();
    assert_eq!(filters, [64, 256, 256]);
    assert_eq!(wide.hidden, 1176);
    wide.validate().expect("valid");

    // Table 4.12 (MNIST): conv 64@5×5, conv 128@5×5, dense 6,952.
    let dense = |i: usize, o: usize| i * o + o;
    let expected =
        64 * 25 + 128 * 64 * 25 + 2 * (64 + 128) + dense(128 * 16, 6952) + dense(6952, 10);
    assert_eq!(param_count(&build("cnn-add-params", 0)), expected);
    assert_eq!(
        ModelSpec::named("sap-add-params").expect("sap").name,
        "SAP (add params)"
    );
    // Variants of models they do not apply to are unknown names.
    for bad in [
        "cifar10-mlp-ste",
        "2nd-gm-add-params",
        "cifar10-1-layer-sgbn",
    ] {
        assert!(ModelSpec::named(bad).is_err(), "{bad}");
    }
}

#[test]
fn chapter_three_networks_follow_tables_3_1_to_3_3() {
    let convs = |name: &str| ModelSpec::named(name).expect(name).convs.len();
    for unit in ["ste", "reinforce", "dbn"] {
        assert_eq!(convs(&format!("mlp-{unit}")), 0);
        assert_eq!(convs(&format!("1cnn-{unit}")), 1);
        assert_eq!(convs(&format!("2cnn-{unit}")), 2);
    }
    // No batch norm in chapter 3: conv + dense parameters only.
    let dense = |i: usize, o: usize| i * o + o;
    assert_eq!(
        param_count(&build("1cnn-dbn", 0)),
        32 * 25 + dense(32 * 12 * 12, 100) + dense(100, 10)
    );
    assert_eq!(
        param_count(&build("mlp-ste", 0)),
        dense(784, 100) + dense(100, 10)
    );
    assert_eq!(
        param_count(&build("ch3-cnn", 0)),
        32 * 25 + dense(32 * 12 * 12, 100) + dense(100, 10)
    );
    assert!(!build("mlp-dbn", 0).is_stochastic());
    assert!(build("mlp-reinforce", 0).is_stochastic());
    assert!(build("2cnn-ste", 0).is_stochastic());
    assert!(!build("ch3-cnn", 0).is_stochastic());
}
