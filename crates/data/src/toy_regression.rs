//! The toy regression set of thesis §4.6.5.

use candle_core::{Device, Tensor};
use rand::{SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

use crate::Result;

/// 300 points `x = linspace(−1, 1)` with targets `y = |x|`, split at random
/// (seeded) into 210 training and 90 test points (§4.6.5, Tables 4.9–4.10).
/// Tensors are `(n, 1)` f32; each split keeps increasing `x`.
#[derive(Debug, Clone)]
pub struct ToyRegression {
    /// Training inputs, `(210, 1)`.
    pub train_x: Tensor,
    /// Training targets, `(210, 1)`.
    pub train_y: Tensor,
    /// Test inputs, `(90, 1)`.
    pub test_x: Tensor,
    /// Test targets, `(90, 1)`.
    pub test_y: Tensor,
}

impl ToyRegression {
    /// Number of points in all.
    pub const POINTS: usize = 300;
    /// Number of training points.
    pub const TRAIN: usize = 210;

    /// Generates the set; the same seed gives the same split.
    pub fn generate(seed: u64, device: &Device) -> Result<Self> {
        let n = Self::POINTS;
        let xs: Vec<f64> = (0..n)
            .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let (train, test) = order.split_at_mut(Self::TRAIN);
        train.sort_unstable();
        test.sort_unstable();
        let make = |idx: &[usize], f: &dyn Fn(f64) -> f64| {
            let v: Vec<f32> = idx.iter().map(|i| f(xs[*i]) as f32).collect();
            Tensor::from_vec(v, (idx.len(), 1), device)
        };
        Ok(Self {
            train_x: make(train, &|x| x)?,
            train_y: make(train, &f64::abs)?,
            test_x: make(test, &|x| x)?,
            test_y: make(test, &f64::abs)?,
        })
    }
}
