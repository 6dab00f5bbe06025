//! One Adam update of a CPU f32 variable in a single pass over memory, in
//! place: no temporary tensors (candle-nn's AdamW builds about fourteen per
//! parameter; measured on the 2-core development machine: 737 ms per step for the SGBN gate's
//! 26 M-weight layer, against 20–30 ms fused).

use std::cell::RefCell;

use candle_core::{CpuStorage, InplaceOp2, Layout, Result, bail};
use rayon::prelude::*;

/// Elements per parallel chunk.
const CHUNK: usize = 1 << 15;

/// `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
/// `w ← w − lr·(m/bc1) / (√(v/bc2) + ε)` on the variable (destination) with
/// the gradient (source); the moments live interleaved (`m, v` per element)
/// in host memory owned by the optimizer.
pub(crate) struct FusedAdamStep<'a> {
    pub moments: RefCell<&'a mut [f32]>,
    pub beta1: f32,
    pub beta2: f32,
    pub one_minus_beta1: f32,
    pub one_minus_beta2: f32,
    pub lr: f32,
    pub bc1: f32,
    pub bc2: f32,
    pub eps: f32,
}

impl InplaceOp2 for FusedAdamStep<'_> {
    fn name(&self) -> &'static str {
        "sgbn-fused-adam"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        g: &CpuStorage,
        g_l: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(w), CpuStorage::F32(g)) = (dst, g) else {
            bail!("fused Adam needs f32 variable and gradient")
        };
        let (Some((w0, w1)), Some((g0, g1))) =
            (dst_l.contiguous_offsets(), g_l.contiguous_offsets())
        else {
            bail!("fused Adam needs contiguous variable and gradient")
        };
        let w = &mut w[w0..w1];
        let g = &g[g0..g1];
        let mut moments = self.moments.borrow_mut();
        if w.len() != g.len() || moments.len() != 2 * w.len() {
            bail!(
                "fused Adam: {} weights, {} gradients, {} moment values",
                w.len(),
                g.len(),
                moments.len()
            )
        }
        let step = AdamArithmetic {
            b1: self.beta1,
            b2: self.beta2,
            c1: self.one_minus_beta1,
            c2: self.one_minus_beta2,
            lr: self.lr,
            bc1: self.bc1,
            bc2: self.bc2,
            eps: self.eps,
        };
        let avx2 = avx2_available();
        w.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(moments.par_chunks_mut(2 * CHUNK))
            .for_each(|((w, g), mv)| {
                if avx2 {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `avx2_available` checked at run time that
                    // this CPU has AVX2 (and AVX, which it implies).
                    #[allow(unsafe_code)]
                    unsafe {
                        step.update_avx2(w, g, mv)
                    }
                } else {
                    step.update(w, g, mv)
                }
            });
        Ok(())
    }
}

/// The scalars of one Adam update.
#[derive(Debug, Clone, Copy)]
struct AdamArithmetic {
    b1: f32,
    b2: f32,
    c1: f32,
    c2: f32,
    lr: f32,
    bc1: f32,
    bc2: f32,
    eps: f32,
}

impl AdamArithmetic {
    /// The update of one chunk: weights `w`, gradients `g`, moments `mv`
    /// interleaved (`m, v` per weight).
    #[inline(always)]
    fn update(&self, w: &mut [f32], g: &[f32], mv: &mut [f32]) {
        let Self {
            b1,
            b2,
            c1,
            c2,
            lr,
            bc1,
            bc2,
            eps,
        } = *self;
        for ((w, &g), mv) in w.iter_mut().zip(g).zip(mv.chunks_exact_mut(2)) {
            // The same operations in the same order as the reference path,
            // so both give the same bits.
            let m = mv[0] * b1 + g * c1;
            let v = mv[1] * b2 + (g * g) * c2;
            mv[0] = m;
            mv[1] = v;
            *w -= ((m / bc1) / ((v / bc2).sqrt() + eps)) * lr;
        }
    }

    /// [`Self::update`] compiled for AVX2: eight-wide divisions and square
    /// roots instead of the baseline's four (IEEE operations, so the same
    /// bits; Rust never fuses a multiply and an add on its own).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2")]
    unsafe fn update_avx2(&self, w: &mut [f32], g: &[f32], mv: &mut [f32]) {
        self.update(w, g, mv)
    }
}

/// Whether the AVX2 build of the update can run here: the workspace's one
/// CPU-feature check (`sgbn_layers::kernels::avx2_fma_available`). The
/// update needs only AVX2; a CPU with AVX2 and no FMA runs the portable
/// update, which gives the same bits (tested below).
fn avx2_available() -> bool {
    sgbn_layers::kernels::avx2_fma_available()
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The AVX2 build and the baseline build of the update give the same
    /// bits (on a CPU without AVX2 there is nothing to compare, and the
    /// test says so by checking `avx2_available` first).
    #[test]
    fn avx2_update_has_the_bits_of_the_baseline_update() {
        if !avx2_available() {
            eprintln!("no AVX2 on this CPU: only the baseline update runs");
            return;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let n = 10_007;
        let w: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let g: Vec<f32> = (0..n)
            .map(|i| match i % 3 {
                0 => rng.random_range(-1e-3..1e-3),
                1 => rng.random_range(-10.0..10.0),
                _ => 0.0,
            })
            .collect();
        let mv: Vec<f32> = (0..2 * n)
            .map(|i| rng.random_range(0.0..1e-2) * (i % 2) as f32)
            .collect();
        let step = AdamArithmetic {
            b1: 0.9,
            b2: 0.999,
            c1: 0.1,
            c2: 0.001,
            lr: 1e-3,
            bc1: 1.0 - 0.9f32.powi(3),
            bc2: 1.0 - 0.999f32.powi(3),
            eps: 1e-8,
        };
        let (mut w1, mut mv1) = (w.clone(), mv.clone());
        let (mut w2, mut mv2) = (w.clone(), mv.clone());
        for _ in 0..3 {
            step.update(&mut w1, &g, &mut mv1);
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 was detected above.
            #[allow(unsafe_code)]
            unsafe {
                step.update_avx2(&mut w2, &g, &mut mv2)
            }
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w1), bits(&w2));
        assert_eq!(bits(&mv1), bits(&mv2));
        // The update moved the weights.
        assert!(w1.iter().zip(&w).filter(|(a, b)| a != b).count() > n / 2);
    }
}
