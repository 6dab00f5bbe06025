//! Helpers that write small data files for the tests.
#![allow(dead_code)]

use std::{io::Write, path::Path};

/// An IDX file of unsigned bytes with the given dimensions and payload.
pub fn idx(rank: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, rank];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(payload);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write test file");
}

/// A tiny MNIST-shaped data set: `n` images of 28×28 (pixel = image index)
/// and labels `i % 10`, raw or gzip-compressed.
pub fn write_tiny_mnist(dir: &Path, n: usize, gz: bool) {
    let images: Vec<u8> = (0..n).flat_map(|i| vec![i as u8; 784]).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let files = [
        (
            "train-images-idx3-ubyte",
            idx(3, &[n as u32, 28, 28], &images),
        ),
        ("train-labels-idx1-ubyte", idx(1, &[n as u32], &labels)),
        (
            "t10k-images-idx3-ubyte",
            idx(3, &[n as u32, 28, 28], &images),
        ),
        ("t10k-labels-idx1-ubyte", idx(1, &[n as u32], &labels)),
    ];
    for (name, bytes) in files {
        if gz {
            write(&dir.join(format!("{name}.gz")), &gzip(&bytes));
        } else {
            write(&dir.join(name), &bytes);
        }
    }
}
