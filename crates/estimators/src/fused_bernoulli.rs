//! The hard-STE Bernoulli unit as one CPU custom op: sigmoid, uniform draw,
//! comparison and the straight-through gradient in a single parallel pass
//! (the tensor-op version makes six passes and as many temporaries over
//! the SGBN gate's 2.56 M logits per batch).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor, bail};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::SeededRng;

/// Elements per generator stream: a fixed split, so the draws depend on the
/// key and the element index only, never on thread scheduling.
const CHUNK: usize = 1 << 14;

/// `h = 1[u < σ(a)]` with `u` from ChaCha8 seeded by `key`, stream =
/// element index / `CHUNK`; backward passes the upstream gradient through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HardSteSample {
    pub key: u64,
}

impl HardSteSample {
    /// `on(rng, a)` draws one uniform from `rng` and says whether it falls
    /// below σ(a): the plain per-element loop, used for f64.
    fn run<T: Copy + Send + Sync>(
        &self,
        a: &[T],
        on: impl Fn(&mut SeededRng, T) -> bool + Sync,
        one: T,
        zero: T,
    ) -> Vec<T> {
        let mut out = vec![zero; a.len()];
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK))
            .enumerate()
            .for_each(|(chunk, (out, a))| {
                let mut rng = self.chunk_rng(chunk);
                for (o, &v) in out.iter_mut().zip(a) {
                    *o = if on(&mut rng, v) { one } else { zero };
                }
            });
        out
    }

    /// The generator of chunk `chunk`.
    fn chunk_rng(&self, chunk: usize) -> SeededRng {
        let mut rng = SeededRng::seed_from_u64(self.key);
        rng.set_stream(chunk as u64);
        rng
    }

    /// The f32 sampler: the same draws and the same decisions, bit for bit,
    /// as [`sample_exact_f32`] applied element by element, in two vectorized
    /// passes per chunk:
    ///
    /// 1. the chunk's uniforms are drawn in order into a buffer;
    /// 2. each element is decided against [`sigmoid_approx`], which is within
    ///    [`SIGMOID_APPROX_MAX_ERROR`] of the exact `1 / (1 + exp(−a))`: a
    ///    uniform further than [`UNSURE_BAND`] from it falls on the same side
    ///    of the exact value, and the few within the band (about `2 ·
    ///    UNSURE_BAND` of them, and every NaN) are marked and then decided
    ///    by the exact formula.
    ///
    /// In a `perf` profile of the SGBN training step the per-element loop
    /// (one scalar `expf` each) took about 7 ns per element, this one about
    /// 3 ns, the generator included.
    fn run_f32(&self, a: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; a.len()];
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK))
            .enumerate()
            .for_each(|(chunk, (out, a))| {
                let mut rng = self.chunk_rng(chunk);
                let u: Vec<f32> = a.iter().map(|_| rng.random::<f32>()).collect();
                let mut unsure = false;
                for ((o, &u), &a) in out.iter_mut().zip(&u).zip(a) {
                    *o = decide_approx(u, a);
                    unsure |= *o == UNSURE;
                }
                if unsure {
                    for ((o, &u), &a) in out.iter_mut().zip(&u).zip(a) {
                        if *o == UNSURE {
                            *o = if sample_exact_f32(u, a) { 1.0 } else { 0.0 };
                        }
                    }
                }
            });
        out
    }
}

/// Marks an element left to the exact formula (never a sample's value).
const UNSURE: f32 = 0.5;

/// Half-width of the band around [`sigmoid_approx`] where the exact
/// formula decides.
const UNSURE_BAND: f32 = 1e-4;

/// A bound on `|sigmoid_approx(a) − 1 / (1 + exp(−a))|` over every finite
/// and infinite f32 `a`, ten times below [`UNSURE_BAND`]; the unit tests
/// check it on a dense sweep of the f32 bit patterns.
#[cfg(test)]
const SIGMOID_APPROX_MAX_ERROR: f32 = 1e-5;

/// `1` when `u` lies below [`sigmoid_approx`]`(a)` by more than
/// [`UNSURE_BAND`], `0` when above by as much, else [`UNSURE`] (also for NaN).
#[inline(always)]
fn decide_approx(u: f32, a: f32) -> f32 {
    let s = sigmoid_approx(a);
    if u < s - UNSURE_BAND {
        1.0
    } else if u >= s + UNSURE_BAND {
        0.0
    } else {
        UNSURE
    }
}

/// The decision of the reference: `u < σ(a)` with σ computed as
/// `1 / (1 + exp(−a))` in f32.
fn sample_exact_f32(u: f32, a: f32) -> bool {
    u < 1.0 / (1.0 + (-a).exp())
}

/// `1 / (1 + 2^(−a·log₂e))` with `2^t = 2^round(t) · p(t − round(t))`,
/// `p` the degree-5 Taylor polynomial of `exp((t − round t)·ln 2)` (relative
/// error below 3·10⁻⁶ on `[−½, ½]`), `−a` clamped to `[−87, 87]` so that
/// the power of two stays a normal number. Branch-free, so the compiler
/// vectorizes the loop that calls it. NaN in, NaN out.
#[inline(always)]
fn sigmoid_approx(a: f32) -> f32 {
    // 1.5 · 2²³: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let t = (-a).clamp(-87.0, 87.0) * std::f32::consts::LOG2_E;
    let n = (t + ROUND) - ROUND;
    let x = (t - n) * std::f32::consts::LN_2;
    let p = 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0)))));
    let two_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    1.0 / (1.0 + p * two_n)
}

impl CustomOp1 for HardSteSample {
    fn name(&self) -> &'static str {
        "sgbn-hard-ste-sample"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = l.contiguous_offsets() else {
            bail!("{}: input must be contiguous", self.name())
        };
        let shape = l.shape().clone();
        match s {
            CpuStorage::F32(v) => Ok((CpuStorage::F32(self.run_f32(&v[start..end])), shape)),
            CpuStorage::F64(v) => {
                let out = self.run(
                    &v[start..end],
                    |r: &mut SeededRng, a: f64| r.random::<f64>() < 1.0 / (1.0 + (-a).exp()),
                    1f64,
                    0f64,
                );
                Ok((CpuStorage::F64(out), shape))
            }
            _ => bail!("{}: f32 or f64 only", self.name()),
        }
    }

    fn bwd(&self, _a: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-element f32 sampler that [`HardSteSample::run_f32`] replaced.
    fn run_f32_per_element(op: &HardSteSample, a: &[f32]) -> Vec<f32> {
        op.run(a, |r, a| sample_exact_f32(r.random::<f32>(), a), 1.0, 0.0)
    }

    fn exact_sigmoid(a: f32) -> f32 {
        1.0 / (1.0 + (-a).exp())
    }

    #[test]
    fn sigmoid_approx_is_within_its_bound_on_a_sweep_of_every_f32() {
        // Every 61st bit pattern (both signs, every exponent, subnormals,
        // infinities), plus the neighbourhood of the clamp and of zero.
        let sweep = (0..=u32::MAX).step_by(61).map(f32::from_bits);
        let near = [
            -88.0f32, -87.0, -86.9, 86.9, 87.0, 88.0, 0.0, -0.0, 1e-30, -1e-30,
        ];
        let specials = [f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN];
        let mut worst = (0.0f32, 0.0f32);
        let mut checked = 0u64;
        for a in sweep.chain(near).chain(specials) {
            if a.is_nan() {
                assert!(
                    sigmoid_approx(a).is_nan(),
                    "NaN in, NaN out ({:#x})",
                    a.to_bits()
                );
                continue;
            }
            let err = (sigmoid_approx(a) - exact_sigmoid(a)).abs();
            if err.is_nan() || err > worst.0 {
                worst = (err, a);
            }
            checked += 1;
        }
        assert!(checked > 60_000_000, "{checked}");
        eprintln!("worst |σ̃ − σ| = {:e} at a = {}", worst.0, worst.1);
        assert!(
            worst.0 <= SIGMOID_APPROX_MAX_ERROR && SIGMOID_APPROX_MAX_ERROR * 10.0 <= UNSURE_BAND,
            "worst error {} at a = {}",
            worst.0,
            worst.1
        );
    }

    #[test]
    fn vectorized_f32_sampler_matches_the_per_element_one_bit_for_bit() {
        // Logits from a wide spread, a narrow one (most uniforms near σ),
        // and special values, over several chunks and a ragged tail.
        let mut gen_rng = SeededRng::seed_from_u64(9);
        let n = 3 * CHUNK + 1234;
        let mut a: Vec<f32> = (0..n)
            .map(|i| match i % 4 {
                0 => gen_rng.random_range(-30.0f32..30.0),
                1 => gen_rng.random_range(-0.01f32..0.01),
                2 => gen_rng.random_range(-4.0f32..4.0),
                _ => gen_rng.random_range(-100.0f32..100.0),
            })
            .collect();
        for (i, v) in [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            87.5,
            -87.5,
        ]
        .into_iter()
        .enumerate()
        {
            a[i * 1001] = v;
        }
        for key in [0u64, 1, 0xdead_beef] {
            let op = HardSteSample { key };
            let fast = op.run_f32(&a);
            let slow = run_f32_per_element(&op, &a);
            let differ = fast
                .iter()
                .zip(&slow)
                .filter(|(x, y)| x.to_bits() != y.to_bits())
                .count();
            assert_eq!(differ, 0, "key {key}");
            // Not all zeros or ones: the comparison is live.
            let ones = fast.iter().filter(|&&v| v == 1.0).count();
            assert!(ones > n / 4 && ones < 3 * n / 4, "{ones} of {n}");
        }
    }

    #[test]
    fn the_exact_formula_decides_inside_the_band_and_only_there() {
        let mut rng = SeededRng::seed_from_u64(3);
        let mut unsure = 0;
        for _ in 0..200_000 {
            let a = rng.random_range(-0.01f32..0.01);
            let u = rng.random::<f32>();
            let d = decide_approx(u, a);
            let s = sigmoid_approx(a);
            if (u - s).abs() < UNSURE_BAND * 0.99 {
                assert_eq!(d, UNSURE, "u {u}, a {a}");
            }
            if (u - s).abs() > UNSURE_BAND * 1.01 {
                assert_eq!(d == 1.0, sample_exact_f32(u, a), "u {u}, a {a}");
            }
            unsure += usize::from(d == UNSURE);
        }
        // About 2 · 10⁻⁴ of the uniforms (40 of 200,000) fall in the band:
        // it is live, and narrow. (Binomial: 40 ± 6.3.)
        assert!((10..=80).contains(&unsure), "{unsure}");
        assert_eq!(decide_approx(0.5, f32::NAN), UNSURE);
    }
}
