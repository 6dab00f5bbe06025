//! The memory estimate, the padding bound, and the checkpoint file's
//! safety: never written through a planted link, byte-identical for the
//! same state, refused when it holds NaN or infinity.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use sgbn_models::{
    Checkpoint, Classifier, ConvNet, MODEL_NAMES, ModelError, ModelSpec, save_checkpoint,
    write_atomic,
};

#[test]
fn parameter_estimate_is_within_three_percent_of_the_built_model_for_every_named_model() {
    for name in MODEL_NAMES {
        let spec = ModelSpec::named(name).expect("spec");
        let model = ConvNet::new(&spec, 0, &Device::Cpu).expect("model");
        let actual: usize = model
            .state()
            .iter()
            .map(|(_, v)| v.as_tensor().elem_count())
            .sum();
        let est = spec.memory_estimate(50);
        // A large model's checkpoint is refused when the estimate exceeds
        // 1.5 times the values it holds: every named model's own must pass.
        assert!(
            est.parameters as f64 <= 1.5 * actual as f64,
            "{name}: estimated {} parameters, built {actual}: its checkpoint would be refused",
            est.parameters
        );
        if spec.probe.is_some() {
            continue;
        }
        let rel = (est.parameters as f64 - actual as f64).abs() / actual as f64;
        // The BNN layers' binarization scales are not counted (2.4 %).
        assert!(
            rel < 0.03,
            "{name}: estimated {} parameters, built {actual}",
            est.parameters
        );
        assert_eq!(est.parameter_bytes, 16 * est.parameters, "{name}");
    }
}

#[test]
fn activation_estimate_grows_linearly_with_the_batch() {
    let spec = ModelSpec::named("sgbn").expect("spec");
    let one = spec.memory_estimate(1);
    let fifty = spec.memory_estimate(50);
    assert_eq!(fifty.activation_bytes, 50 * one.activation_bytes);
    assert_eq!(fifty.parameter_bytes, one.parameter_bytes);
    assert_eq!(fifty.checkpoint_bytes, 12 * fifty.parameters);
    // The peak is a step's activations or the checkpoint's buffer, which
    // never coexist; a large enough batch makes the activations dominate.
    assert_eq!(
        fifty.total_bytes(),
        fifty.parameter_bytes + fifty.activation_bytes.max(fifty.checkpoint_bytes)
    );
    let huge = spec.memory_estimate(100_000);
    assert!(huge.activation_bytes > huge.checkpoint_bytes);
    assert!(huge.total_bytes() > fifty.total_bytes());
}

#[test]
fn padding_as_large_as_the_kernel_is_refused_with_the_numbers() {
    let spec = ModelSpec::named("cnn").expect("spec").with_padding(100);
    let err = ConvNet::new(&spec, 0, &Device::Cpu).expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, ModelError::InvalidSpec(_)), "{msg}");
    assert!(
        msg.contains("padding 100") && msg.contains("kernel 5"),
        "{msg}"
    );
    // SAME padding still builds.
    let same = ModelSpec::named("cnn").expect("spec").with_padding(2);
    ConvNet::new(&same, 0, &Device::Cpu).expect("SAME padding builds");
}

#[cfg(unix)]
#[test]
fn atomic_write_never_writes_through_a_link_planted_at_the_temporary_or_final_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, b"precious").expect("victim");
    let target = tmp.path().join("out").join("report.json");
    std::fs::create_dir_all(target.parent().expect("dir")).expect("dir");
    // The name the writer used before it made its temporary files with
    // O_EXCL and a random name: a link there redirected the write.
    let predictable = target
        .parent()
        .expect("dir")
        .join(format!(".report.json.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &predictable).expect("plant link");
    write_atomic(&target, b"new contents").expect("write");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
    assert_eq!(std::fs::read(&target).expect("target"), b"new contents");
    // The file gets the usual mode (0666 less the umask, as `File::create`
    // gives), not the temporary file's private 0600.
    use std::os::unix::fs::PermissionsExt;
    let plain = tmp.path().join("plain");
    std::fs::File::create(&plain).expect("plain file");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&target), mode(&plain));

    // A link at the final name is replaced, its target left alone.
    let linked = tmp.path().join("out").join("linked.json");
    std::os::unix::fs::symlink(&victim, &linked).expect("plant link");
    write_atomic(&linked, b"fresh").expect("write");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
    let meta = std::fs::symlink_metadata(&linked).expect("meta");
    assert!(meta.file_type().is_file(), "the link became a plain file");
    assert_eq!(std::fs::read(&linked).expect("linked"), b"fresh");
}

fn metadata() -> BTreeMap<String, String> {
    (0..12)
        .map(|i| (format!("key.{i}"), format!("value {i}")))
        .collect()
}

#[test]
fn the_same_state_and_metadata_give_byte_identical_checkpoints() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model =
        ConvNet::new(&ModelSpec::named("sgbn").expect("spec"), 1, &Device::Cpu).expect("model");
    let mut files = Vec::new();
    for i in 0..6 {
        let path = tmp.path().join(format!("ck{i}.safetensors"));
        save_checkpoint(&model, &path, &metadata()).expect("save");
        files.push(std::fs::read(&path).expect("read"));
    }
    for (i, f) in files.iter().enumerate().skip(1) {
        assert!(f == &files[0], "checkpoint {i} differs from checkpoint 0");
    }
    // Still a valid checkpoint, metadata intact.
    let ck = Checkpoint::read(&tmp.path().join("ck0.safetensors"), &Device::Cpu).expect("read");
    assert_eq!(ck.metadata, metadata());
    ck.build(&Device::Cpu).expect("builds");
}

#[test]
fn a_checkpoint_with_a_nan_or_infinite_weight_is_refused_naming_the_tensor() {
    let tmp = tempfile::tempdir().expect("tmp");
    for bad in [f32::NAN, f32::INFINITY] {
        let model =
            ConvNet::new(&ModelSpec::named("cnn").expect("spec"), 0, &Device::Cpu).expect("model");
        let (name, var) = model
            .state()
            .into_iter()
            .find(|(n, _)| n.ends_with("weight"))
            .expect("a weight");
        let mut values = var
            .as_tensor()
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("values");
        values[7] = bad;
        var.set(&Tensor::from_vec(values, var.as_tensor().dims(), &Device::Cpu).expect("tensor"))
            .expect("set");
        let path = tmp.path().join("nan.safetensors");
        save_checkpoint(&model, &path, &BTreeMap::new()).expect("save");
        let err = Checkpoint::read(&path, &Device::Cpu).expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains(&name) && msg.contains("index 7") && msg.contains("non-finite"),
            "{msg}"
        );
    }
}
