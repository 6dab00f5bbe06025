//! A binary CIFAR-10 batch: any bytes give a data set or an error.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sgbn_data::parse_cifar10_batch(Path::new("fuzz.bin"), data);
});
