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
    /// below σ(a).
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
                let mut rng = SeededRng::seed_from_u64(self.key);
                rng.set_stream(chunk as u64);
                for (o, &v) in out.iter_mut().zip(a) {
                    *o = if on(&mut rng, v) { one } else { zero };
                }
            });
        out
    }
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
            CpuStorage::F32(v) => {
                let out = self.run(
                    &v[start..end],
                    |r: &mut SeededRng, a: f32| r.random::<f32>() < 1.0 / (1.0 + (-a).exp()),
                    1f32,
                    0f32,
                );
                Ok((CpuStorage::F32(out), shape))
            }
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
