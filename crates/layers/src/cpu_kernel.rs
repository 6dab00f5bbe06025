//! What every CPU custom op of the crate shares: contiguous slices of its
//! inputs and one dispatch over f32 / f64.

use candle_core::{CpuStorage, Layout, Result, Shape, WithDType, backend::BackendStorage, bail};

use crate::small_gemm::Element;

/// The contiguous slice of a storage, or an error naming the op.
pub(crate) fn contiguous<'a, T: WithDType>(
    s: &'a CpuStorage,
    l: &Layout,
    op: &str,
) -> Result<&'a [T]> {
    let data = s.as_slice::<T>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("{op}: inputs must be contiguous"),
    }
}

/// A CPU kernel over contiguous inputs of one element type.
pub(crate) trait CpuKernel {
    /// The op's name, for errors.
    const NAME: &'static str;

    /// The output and its shape, from the inputs' values and layouts.
    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)>;
}

/// Runs `kernel` on `inputs` in their element type (f32 or f64; the first
/// input's decides, and every input must have it).
pub(crate) fn run_cpu_kernel<K: CpuKernel>(
    kernel: &K,
    inputs: &[(&CpuStorage, &Layout)],
) -> Result<(CpuStorage, Shape)> {
    let layouts: Vec<&Layout> = inputs.iter().map(|(_, l)| *l).collect();
    let Some((first, _)) = inputs.first() else {
        bail!("{}: no inputs", K::NAME);
    };
    match first {
        CpuStorage::F32(_) => {
            let values = inputs
                .iter()
                .map(|(s, l)| contiguous::<f32>(s, l, K::NAME))
                .collect::<Result<Vec<_>>>()?;
            let (v, shape) = kernel.run(&values, &layouts)?;
            Ok((CpuStorage::F32(v), shape))
        }
        CpuStorage::F64(_) => {
            let values = inputs
                .iter()
                .map(|(s, l)| contiguous::<f64>(s, l, K::NAME))
                .collect::<Result<Vec<_>>>()?;
            let (v, shape) = kernel.run(&values, &layouts)?;
            Ok((CpuStorage::F64(v), shape))
        }
        other => bail!("{}: f32 or f64 only, got {:?}", K::NAME, other.dtype()),
    }
}
