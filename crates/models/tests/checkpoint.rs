//! Checkpoints: round trip, and every way a checkpoint can be wrong.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_models::{
    Checkpoint, Classifier, ConvNet, FORMAT, FORMAT_KEY, ForwardContext, ModelError, ModelSpec,
    SPEC_KEY, save_checkpoint,
};

fn build(name: &str, seed: u64) -> ConvNet {
    ConvNet::new(&ModelSpec::named(name).expect("spec"), seed, &Device::Cpu).expect("model")
}

fn logits(m: &ConvNet) -> Vec<f32> {
    let zeros = Tensor::zeros((3, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    let x = uniform_like(&zeros, &mut SeededRng::seed_from_u64(1)).expect("x");
    m.forward(
        &x,
        ForwardContext::eval(1.0),
        &mut SeededRng::seed_from_u64(2),
    )
    .and_then(|y| Ok(y.flatten_all()?.to_vec1::<f32>()?))
    .expect("logits")
}

#[test]
fn round_trip_restores_state_spec_and_metadata() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("nested").join("sgbn.safetensors");
    for name in ["cnn", "sgbn"] {
        let m = build(name, 3);
        // Move the running statistics away from their initial values.
        let zeros = Tensor::zeros((4, 1, 28, 28), DType::F32, &Device::Cpu).expect("z");
        let x = uniform_like(&zeros, &mut SeededRng::seed_from_u64(4)).expect("x");
        m.forward(
            &x,
            ForwardContext::train(1.0),
            &mut SeededRng::seed_from_u64(5),
        )
        .expect("f");
        let meta = BTreeMap::from([("epoch".to_string(), "3".to_string())]);
        save_checkpoint(&m, &path, &meta).expect("save");

        let ck = Checkpoint::read(&path, &Device::Cpu).expect("read");
        assert_eq!(&ck.spec, m.spec());
        assert_eq!(ck.metadata, meta);
        let restored = ck.build(&Device::Cpu).expect("build");
        assert_eq!(logits(&restored), logits(&m), "{name}");

        // Loading into a differently seeded model of the same spec.
        let other = build(name, 99);
        assert_ne!(logits(&other), logits(&m));
        ck.load_into(&other).expect("load");
        assert_eq!(logits(&other), logits(&m));
    }
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("nested"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn wrong_spec_missing_tensor_and_wrong_shape_are_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("cnn.safetensors");
    let cnn = build("cnn", 1);
    save_checkpoint(&cnn, &path, &BTreeMap::new()).expect("save");
    let ck = Checkpoint::read(&path, &Device::Cpu).expect("read");
    let err = ck.load_into(&build("cnn-bin", 1)).expect_err("other spec");
    assert!(matches!(err, ModelError::SpecMismatch { .. }), "{err}");
    assert!(err.to_string().contains("cnn.safetensors"), "{err}");

    // Hand-made files with a valid header but bad tensors.
    let spec_json = serde_json::to_string(cnn.spec()).expect("json");
    let header = std::collections::HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (SPEC_KEY.to_string(), spec_json),
    ]);
    let state: Vec<(String, Tensor)> = cnn
        .state()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    let write = |tensors: &[(String, Tensor)], file: &str| {
        let p = tmp.path().join(file);
        let bytes = safetensors::serialize(
            tensors.iter().map(|(n, t)| (n.as_str(), t)),
            Some(header.clone()),
        )
        .expect("serialize");
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let missing = write(&state[1..], "missing.safetensors");
    let err = Checkpoint::read(&missing, &Device::Cpu)
        .expect("read")
        .load_into(&cnn)
        .expect_err("missing");
    assert!(
        matches!(&err, ModelError::MissingTensor { name, .. } if *name == state[0].0),
        "{err}"
    );

    let mut reshaped = state.clone();
    let idx = reshaped
        .iter()
        .position(|(n, _)| n == "hidden.weight")
        .expect("hidden");
    reshaped[idx].1 = Tensor::zeros((10, 10), DType::F32, &Device::Cpu).expect("z");
    let wrong = write(&reshaped, "wrong.safetensors");
    let before = logits(&cnn);
    let err = Checkpoint::read(&wrong, &Device::Cpu)
        .expect("read")
        .load_into(&cnn)
        .expect_err("wrong shape");
    assert!(
        matches!(&err, ModelError::WrongShape { name, found, .. }
        if name == "hidden.weight" && *found == [10, 10]),
        "{err}"
    );
    assert_eq!(logits(&cnn), before, "a failed load changes nothing");
}

/// The gate's wide logits layer is stored in column panels on the CPU; a
/// checkpoint holding it as the `(in, out)` matrix (written on another
/// device, or before the panels) loads into the same function.
#[test]
fn a_dense_weight_saved_as_a_matrix_loads_into_column_panels() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sgbn = build("sgbn", 5);
    let panel_names: Vec<String> = sgbn
        .state()
        .into_iter()
        .filter(|(_, v)| v.as_tensor().rank() == 3)
        .map(|(n, _)| n)
        .collect();
    assert!(
        !panel_names.is_empty(),
        "the gate's logits layer is in panels"
    );
    let spec_json = serde_json::to_string(sgbn.spec()).expect("json");
    let header = std::collections::HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (SPEC_KEY.to_string(), spec_json),
    ]);
    let state: Vec<(String, Tensor)> = sgbn
        .state()
        .into_iter()
        .map(|(n, v)| {
            let t = v.as_tensor().clone();
            if panel_names.contains(&n) {
                (n, sgbn_layers::from_column_panels(&t).expect("matrix"))
            } else {
                (n, t)
            }
        })
        .collect();
    let path = tmp.path().join("matrix.safetensors");
    let bytes = safetensors::serialize(state.iter().map(|(n, t)| (n.as_str(), t)), Some(header))
        .expect("serialize");
    std::fs::write(&path, bytes).expect("write");
    let other = build("sgbn", 6);
    assert_ne!(logits(&other), logits(&sgbn));
    Checkpoint::read(&path, &Device::Cpu)
        .expect("read")
        .load_into(&other)
        .expect("load");
    assert_eq!(logits(&other), logits(&sgbn));
}

#[test]
fn files_that_are_not_sgbn_checkpoints_are_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let garbage = tmp.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"definitely not safetensors").expect("w");
    let err = Checkpoint::read(&garbage, &Device::Cpu).expect_err("garbage");
    assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err}");
    assert!(err.to_string().contains("garbage.safetensors"));

    let plain = tmp.path().join("plain.safetensors");
    let t = Tensor::zeros(3, DType::F32, &Device::Cpu).expect("t");
    std::fs::write(
        &plain,
        safetensors::serialize([("x", &t)], None).expect("s"),
    )
    .expect("w");
    let err = Checkpoint::read(&plain, &Device::Cpu).expect_err("no header");
    assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err}");

    let err = Checkpoint::read(&tmp.path().join("absent"), &Device::Cpu).expect_err("absent");
    assert!(matches!(err, ModelError::Io { .. }), "{err}");

    let reserved = BTreeMap::from([("sgbn.spec".to_string(), "x".to_string())]);
    let err = save_checkpoint(&build("cnn", 0), &tmp.path().join("r"), &reserved)
        .expect_err("reserved key");
    assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err}");
}

#[test]
fn a_frozen_model_computes_the_same_function_and_input_gradient_without_parameter_gradients() {
    use candle_core::Var;

    let dir = tempfile::tempdir().expect("tmp");
    for name in ["cnn", "sgbn", "bnn-st", "random-mask", "ad-st"] {
        let spec = ModelSpec::named(name).expect("spec");
        let trained = ConvNet::new(&spec, 3, &Device::Cpu).expect("model");
        // Move the batch-norm running statistics off their initial values.
        let x0 = uniform_images(6, 4);
        trained
            .forward(
                &x0,
                ForwardContext::train(1.0),
                &mut SeededRng::seed_from_u64(1),
            )
            .expect("train pass");
        let path = dir.path().join(format!("{name}.st"));
        save_checkpoint(&trained, &path, &Default::default()).expect("save");
        let ck = Checkpoint::read(&path, &Device::Cpu).expect("read");
        let full = ck.build(&Device::Cpu).expect("build");
        let frozen = ck.build_frozen(&Device::Cpu).expect("frozen");
        let x = uniform_images(5, 7);
        let grad = |m: &ConvNet| {
            let v = Var::from_tensor(&x).expect("var");
            let logits = m
                .forward(
                    v.as_tensor(),
                    ForwardContext::eval(1.0),
                    &mut SeededRng::seed_from_u64(2),
                )
                .expect("forward");
            let loss = logits.sum_all().expect("sum");
            let grads = loss.backward().expect("backward");
            let weights_with_grad = m
                .trainable()
                .iter()
                .filter(|(_, p)| grads.get(p.as_tensor()).is_some())
                .count();
            let gx = grads
                .get(v.as_tensor())
                .expect("input gradient")
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .expect("gx");
            let y = logits
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .expect("y");
            (y, gx, weights_with_grad)
        };
        let (y_full, gx_full, n_full) = grad(&full);
        let (y_frozen, gx_frozen, n_frozen) = grad(&frozen);
        assert_eq!(y_frozen, y_full, "{name}: same function");
        assert_eq!(gx_frozen, gx_full, "{name}: same input gradient");
        assert!(n_full > 0, "{name}");
        assert_eq!(n_frozen, 0, "{name}: no parameter gradient");
    }
}

fn uniform_images(b: usize, seed: u64) -> Tensor {
    let zeros = Tensor::zeros((b, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    uniform_like(&zeros, &mut SeededRng::seed_from_u64(seed)).expect("x")
}
