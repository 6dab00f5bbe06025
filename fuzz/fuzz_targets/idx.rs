//! IDX files (MNIST), raw or gzip: any bytes give an array or an error.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    if let Ok(bytes) = sgbn_data::maybe_gunzip(path, data.to_vec()) {
        for rank in [1, 3] {
            let _ = sgbn_data::parse_idx_u8(path, &bytes, rank);
        }
    }
});
