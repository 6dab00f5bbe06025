//! Small models for the attack tests.
#![allow(dead_code)]

use std::cell::Cell;

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use sgbn_attacks::{Result, Victim};
use sgbn_estimators::SeededRng;

/// `z = W·flatten(x) + b`, optionally with an input dropout mask (keep 1/2,
/// scaled by 2) drawn from the caller's generator: a stochastic model whose
/// gradient is known in closed form for each draw.
#[derive(Debug)]
pub struct Linear {
    /// `(K, D)`.
    pub w: Tensor,
    /// `(K,)`.
    pub b: Tensor,
    pub stochastic: bool,
}

impl Linear {
    pub fn random(classes: usize, dims: usize, seed: u64, stochastic: bool) -> Self {
        let mut r = SeededRng::seed_from_u64(seed);
        let w: Vec<f32> = (0..classes * dims)
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        let b: Vec<f32> = (0..classes).map(|_| r.random_range(-0.5..0.5)).collect();
        Self {
            w: Tensor::from_vec(w, (classes, dims), &Device::Cpu).expect("w"),
            b: Tensor::from_vec(b, classes, &Device::Cpu).expect("b"),
            stochastic,
        }
    }
}

impl Victim for Linear {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        let mut flat = x.flatten_from(1)?;
        if self.stochastic {
            let (bsz, d) = flat.dims2()?;
            let mask: Vec<f32> = (0..bsz * d)
                .map(|_| if rng.random::<bool>() { 2.0 } else { 0.0 })
                .collect();
            flat = (flat * Tensor::from_vec(mask, (bsz, d), x.device())?)?;
        }
        Ok(flat.matmul(&self.w.t()?)?.broadcast_add(&self.b)?)
    }

    fn is_stochastic(&self) -> bool {
        self.stochastic
    }

    fn num_classes(&self) -> usize {
        self.b.dims()[0]
    }
}

/// Counts the rows each forward pass sees.
#[derive(Debug)]
pub struct Counting<'a, V: Victim> {
    pub inner: &'a V,
    pub rows: Cell<usize>,
}

impl<V: Victim> Victim for Counting<'_, V> {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        self.rows.set(self.rows.get() + x.dim(0)?);
        self.inner.logits(x, rng)
    }

    fn is_stochastic(&self) -> bool {
        self.inner.is_stochastic()
    }

    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }
}

/// `n` random images `(n, c, h, w)` in `[0, 1]` (some pixels exactly 0 or
/// 1, as in MNIST) and labels below `classes`.
pub fn images(n: usize, c: usize, h: usize, w: usize, classes: u32, seed: u64) -> (Tensor, Tensor) {
    let mut r = SeededRng::seed_from_u64(seed);
    let v: Vec<f32> = (0..n * c * h * w)
        .map(|_| match r.random_range(0..4) {
            0 => 0.0,
            1 => 1.0,
            _ => r.random_range(0.0..1.0),
        })
        .collect();
    let y: Vec<u32> = (0..n).map(|_| r.random_range(0..classes)).collect();
    (
        Tensor::from_vec(v, (n, c, h, w), &Device::Cpu).expect("x"),
        Tensor::from_vec(y, n, &Device::Cpu).expect("y"),
    )
}

pub fn host(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1())
        .expect("host copy")
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    host(a)
        .iter()
        .zip(host(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
