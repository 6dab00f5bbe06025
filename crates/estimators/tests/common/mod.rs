//! Shared helpers of the estimator tests.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

/// A proptest configuration that is deterministic in CI: fixed seed, ChaCha,
/// no regression files written into the source tree.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x5ab0_2019),
        ..Config::default()
    }
}

pub fn tensor(values: &[f64], dtype: DType) -> Tensor {
    Tensor::new(values, &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .expect("tensor from values")
}

pub fn values(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .and_then(|t| t.to_dtype(DType::F64))
        .and_then(|t| t.to_vec1::<f64>())
        .expect("tensor to values")
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
