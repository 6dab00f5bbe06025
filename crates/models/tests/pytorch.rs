//! PyTorch interop: the exported names and layouts, and the round trip
//! export → import.

use candle_core::{DType, Device, Tensor};
use sgbn_estimators::{seeded_rng, uniform_like};
use sgbn_models::{
    Classifier, ConvNet, FORMAT_KEY, ForwardContext, ModelError, ModelSpec, PYTORCH_FORMAT,
    PYTORCH_SLOPE_KEY, SPEC_KEY, load_pytorch, pytorch_state, save_pytorch,
};

fn build(name: &str, seed: u64) -> ConvNet {
    let model =
        ConvNet::new(&ModelSpec::named(name).expect("spec"), seed, &Device::Cpu).expect("model");
    // Running statistics away from their initial values.
    let zeros = Tensor::zeros((4, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    let x = uniform_like(&zeros, &mut seeded_rng(4)).expect("x");
    model
        .forward(&x, ForwardContext::train(1.0), &mut seeded_rng(5))
        .expect("forward");
    model
}

fn logits(m: &ConvNet, slope: f64) -> Vec<f32> {
    let zeros = Tensor::zeros((3, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    let x = uniform_like(&zeros, &mut seeded_rng(1)).expect("x");
    m.forward(&x, ForwardContext::eval(slope), &mut seeded_rng(2))
        .and_then(|y| Ok(y.flatten_all()?.to_vec1::<f32>()?))
        .expect("logits")
}

fn state(m: &dyn Classifier) -> Vec<(String, Vec<f32>)> {
    let mut s: Vec<(String, Vec<f32>)> = m
        .state()
        .into_iter()
        .map(|(n, v)| {
            let values = v
                .as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .expect("values");
            (n, values)
        })
        .collect();
    s.sort_by(|a, b| a.0.cmp(&b.0));
    s
}

#[test]
fn exported_tensors_have_pytorch_layouts() {
    let model = build("sgbn", 0);
    let exported = pytorch_state(&model).expect("export");
    let shape = |name: &str| -> Vec<usize> {
        exported
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .1
            .dims()
            .to_vec()
    };
    // Conv OIHW; linear (out, in); BN vectors and an int64 counter.
    assert_eq!(shape("conv0.weight"), [32, 1, 5, 5]);
    assert_eq!(shape("conv1.weight"), [64, 32, 5, 5]);
    assert_eq!(shape("hidden.weight"), [100, 64 * 4 * 4]);
    assert_eq!(shape("output.weight"), [10, 100]);
    assert_eq!(shape("output.bias"), [10]);
    assert_eq!(shape("gate0.conv.weight"), [32, 1, 5, 5]);
    assert_eq!(shape("gate1.hidden1.weight"), [512, 64 * 4 * 4]);
    assert_eq!(shape("gate1.logits.weight"), [64 * 32 * 25, 512]);
    assert_eq!(shape("bn1.running_var"), [64]);
    let tracked = exported
        .iter()
        .find(|(n, _)| n == "bn1.num_batches_tracked")
        .expect("num_batches_tracked");
    assert_eq!(tracked.1.dtype(), DType::I64);
    assert_eq!(tracked.1.dims(), [0usize; 0]);
    // The linear weight is the transpose of the layer's matrix: output
    // logit j = Σ_i W[j, i]·h[i] + b[j].
    let h = Tensor::arange(0f32, 100.0, &Device::Cpu)
        .and_then(|t| t.reshape((1, 100)))
        .expect("h");
    let w = &exported
        .iter()
        .find(|(n, _)| n == "output.weight")
        .expect("w")
        .1;
    let by_torch_layout = h
        .matmul(&w.t().expect("t"))
        .and_then(|y| y.flatten_all()?.to_vec1::<f32>())
        .expect("product");
    let ours = model
        .state()
        .into_iter()
        .find(|(n, _)| n == "output.weight")
        .expect("ours")
        .1;
    let by_ours = h
        .matmul(ours.as_tensor())
        .and_then(|y| y.flatten_all()?.to_vec1::<f32>())
        .expect("product");
    // Equal up to the order of the sums.
    for (a, b) in by_torch_layout.iter().zip(&by_ours) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn export_then_import_restores_every_tensor_and_the_slope() {
    let tmp = tempfile::tempdir().expect("tmp");
    for name in [
        "cnn",
        "cnn-bin-authors",
        "sgbn",
        "sgbn-dt-authors",
        "1w-sgbn",
    ] {
        let model = build(name, 7);
        let path = tmp.path().join(format!("{name}.safetensors"));
        save_pytorch(&model, 2.5, &path).expect("save");
        let bytes = std::fs::read(&path).expect("read");
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).expect("header");
        let meta = header.metadata().clone().expect("metadata");
        assert_eq!(meta[FORMAT_KEY], PYTORCH_FORMAT);
        assert_eq!(meta[PYTORCH_SLOPE_KEY], "2.5");
        assert!(meta[SPEC_KEY].contains(&model.spec().name), "{name}");

        let imported = load_pytorch(&path, &Device::Cpu).expect("load");
        assert_eq!(imported.slope, 2.5);
        assert_eq!(imported.model.spec(), model.spec());
        assert_eq!(state(&imported.model), state(&model), "{name}");
        assert_eq!(logits(&imported.model, 2.5), logits(&model, 2.5), "{name}");
        // The same bytes again: the export is deterministic.
        save_pytorch(&model, 2.5, &path).expect("save again");
        assert_eq!(std::fs::read(&path).expect("read"), bytes, "{name}");
    }
}

#[test]
fn models_without_a_pytorch_twin_are_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (name, part) in [
        ("bnn-pgd", "BNN"),
        ("sap", "stochastic activation pruning"),
        ("dropconnect", "random weight masks"),
    ] {
        let model =
            ConvNet::new(&ModelSpec::named(name).expect("spec"), 0, &Device::Cpu).expect("model");
        let err =
            save_pytorch(&model, 1.0, &tmp.path().join("x.safetensors")).expect_err("must fail");
        assert!(
            matches!(err, ModelError::InvalidSpec(_)) && err.to_string().contains(part),
            "{name}: {err}"
        );
    }
}

#[test]
fn damaged_imports_are_refused_with_the_tensor_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = build("cnn", 0);
    let mut state = pytorch_state(&model).expect("state");
    let path = tmp.path().join("bad.safetensors");
    let write = |state: &[(String, Tensor)], path: &std::path::Path| {
        let header = std::collections::HashMap::from([
            (FORMAT_KEY.to_string(), PYTORCH_FORMAT.to_string()),
            (
                SPEC_KEY.to_string(),
                serde_json::to_string(model.spec()).expect("json"),
            ),
            (PYTORCH_SLOPE_KEY.to_string(), "1.0".to_string()),
        ]);
        let bytes =
            safetensors::serialize(state.iter().map(|(n, t)| (n.as_str(), t)), Some(header))
                .expect("serialize");
        std::fs::write(path, bytes).expect("write");
    };
    // A linear weight left in this crate's (in, out) layout.
    let i = state
        .iter()
        .position(|(n, _)| n == "hidden.weight")
        .expect("hidden");
    let original = state[i].1.clone();
    state[i].1 = original.t().and_then(|t| t.contiguous()).expect("t");
    write(&state, &path);
    let err = load_pytorch(&path, &Device::Cpu)
        .expect_err("must fail")
        .to_string();
    assert!(
        err.contains("hidden.weight") && err.contains("[100, 1024]"),
        "{err}"
    );
    // A missing tensor.
    state.remove(i);
    write(&state, &path);
    let err = load_pytorch(&path, &Device::Cpu)
        .expect_err("must fail")
        .to_string();
    assert!(err.contains("lacks tensor hidden.weight"), "{err}");
    // A NaN.
    let mut state = pytorch_state(&model).expect("state");
    state[i].1 = (&state[i].1 * f64::NAN).expect("nan");
    write(&state, &path);
    let err = load_pytorch(&path, &Device::Cpu)
        .expect_err("must fail")
        .to_string();
    assert!(
        err.contains("hidden.weight") && err.contains("non-finite"),
        "{err}"
    );
    // An sgbn checkpoint is not a PyTorch export.
    sgbn_models::save_checkpoint(&model, &path, &Default::default()).expect("save");
    let err = load_pytorch(&path, &Device::Cpu)
        .expect_err("must fail")
        .to_string();
    assert!(err.contains(PYTORCH_FORMAT), "{err}");
}
