//! A checkpoint file: any bytes give a checkpoint (whose model then builds
//! or fails cleanly) or an error.
#![no_main]

use std::path::Path;

use candle_core::Device;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ck) =
        sgbn_models::Checkpoint::from_bytes(Path::new("fuzz.safetensors"), data, &Device::Cpu)
    {
        // Bounded: a spec asking for a huge model is refused by its
        // memory estimate before anything is allocated.
        if ck.spec.memory_estimate(1).total_bytes() < (256 << 20) {
            let _ = ck.build(&Device::Cpu);
        }
    }
});
