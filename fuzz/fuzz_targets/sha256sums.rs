//! A SHA256SUMS file: any text gives the sums or an error, and a listed
//! name is found again.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sums) = sgbn_data::Sha256Sums::parse(Path::new("SHA256SUMS"), text) {
        let _ = sums.get(Path::new("train-images-idx3-ubyte.gz"));
    }
});
