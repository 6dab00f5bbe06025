//! A checkpoint's model spec: any JSON the fuzzer makes, read as the spec
//! of a checkpoint holding one tiny tensor, must give a checkpoint whose
//! model builds or fails cleanly, never an allocation beyond the memory
//! bound (run with `-malloc_limit_mb`); and a spec the crate accepts must
//! build and run one image within its own memory estimate.
#![no_main]

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use libfuzzer_sys::fuzz_target;
use sgbn_models::{Checkpoint, Classifier, ConvNet, ForwardContext, ModelSpec};

/// Specs estimated below this are built and run directly (the fuzz run's
/// malloc limit is several times larger: an estimate that undercounts by
/// that much is a finding).
const BUILD_BELOW_BYTES: u64 = 256 << 20;

fn checkpoint_bytes(spec_json: &str) -> Vec<u8> {
    let header = serde_json::json!({
        "__metadata__": {"sgbn.format": "sgbn-checkpoint-1", "sgbn.spec": spec_json},
        "t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    });
    let mut text = serde_json::to_vec(&header).expect("json");
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&0f32.to_le_bytes());
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Through the file: the spec is checked against the values the file
    // holds before anything is built, so this is bounded for any spec.
    let bytes = checkpoint_bytes(text);
    if let Ok(ck) = Checkpoint::from_bytes(Path::new("fuzz.safetensors"), &bytes, &Device::Cpu) {
        let _ = ck.build(&Device::Cpu);
    }
    // Directly: a spec that validates and is estimated small builds, and
    // one image goes through it.
    let Ok(spec) = serde_json::from_str::<ModelSpec>(text) else {
        return;
    };
    if spec.validate().is_err() || spec.memory_estimate(1).total_bytes() >= BUILD_BELOW_BYTES {
        return;
    }
    if let Ok(model) = ConvNet::new_frozen(&spec, &Device::Cpu) {
        let [c, h, w] = spec.input;
        if let Ok(x) = Tensor::zeros((1, c, h, w), DType::F32, &Device::Cpu) {
            let mut rng = sgbn_estimators::seeded_rng(0);
            let _ = model.forward(&x, ForwardContext::eval(1.0), &mut rng);
        }
    }
});
