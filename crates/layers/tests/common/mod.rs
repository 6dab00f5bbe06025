//! Helpers shared by the layer tests.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor, Var};

/// A tensor's values as f64, row-major.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .and_then(|t| t.to_dtype(DType::F64))
        .and_then(|t| t.to_vec1::<f64>())
        .expect("values")
}

/// Compares `analytic` (the autograd gradient of `loss` with respect to
/// `var`) with central differences (h = 1e-6, tolerance 1e-6 relative) at
/// every `stride`-th element; restores `var` afterwards.
pub fn check_finite_differences(
    label: &str,
    var: &Var,
    analytic: &Tensor,
    stride: usize,
    loss: &dyn Fn() -> f64,
) {
    let base = var.as_tensor().copy().expect("copy");
    let mut flat = values(&base);
    let analytic = values(analytic);
    let h = 1e-6;
    for i in (0..flat.len()).step_by(stride.max(1)) {
        let orig = flat[i];
        let mut eval = |v: f64| {
            flat[i] = v;
            let t = Tensor::from_vec(flat.clone(), base.shape(), &Device::Cpu).expect("t");
            var.set(&t).expect("set");
            loss()
        };
        let fd = (eval(orig + h) - eval(orig - h)) / (2.0 * h);
        flat[i] = orig;
        assert!(
            (fd - analytic[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
            "{label}[{i}]: analytic {} vs finite difference {fd}",
            analytic[i]
        );
    }
    var.set(&base).expect("restore");
}
