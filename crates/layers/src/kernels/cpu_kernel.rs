//! What every CPU custom op of the crate shares: contiguous slices of its
//! inputs and one dispatch over f32 / f64.

use candle_core::{CpuStorage, Layout, Result, Shape, WithDType, backend::BackendStorage, bail};

use crate::kernels::element::Element;

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

/// Implements candle's `CustomOp1`, `CustomOp2` or `CustomOp3` (by the
/// number of inputs) for a [`CpuKernel`] that has no backward of its own (a
/// gradient op, or an op whose gradient its caller builds): the op's name is
/// the kernel's and its CPU forward is [`run_cpu_kernel`]. On any other
/// device candle reports the op as unsupported.
macro_rules! no_backward_cpu_op {
    ($kernel:ty, 1) => {
        impl candle_core::CustomOp1 for $kernel {
            fn name(&self) -> &'static str {
                <$kernel as $crate::kernels::cpu_kernel::CpuKernel>::NAME
            }

            fn cpu_fwd(
                &self,
                s: &candle_core::CpuStorage,
                l: &candle_core::Layout,
            ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
                $crate::kernels::cpu_kernel::run_cpu_kernel(self, &[(s, l)])
            }
        }
    };
    ($kernel:ty, 2) => {
        impl candle_core::CustomOp2 for $kernel {
            fn name(&self) -> &'static str {
                <$kernel as $crate::kernels::cpu_kernel::CpuKernel>::NAME
            }

            fn cpu_fwd(
                &self,
                s1: &candle_core::CpuStorage,
                l1: &candle_core::Layout,
                s2: &candle_core::CpuStorage,
                l2: &candle_core::Layout,
            ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
                $crate::kernels::cpu_kernel::run_cpu_kernel(self, &[(s1, l1), (s2, l2)])
            }
        }
    };
    ($kernel:ty, 3) => {
        impl candle_core::CustomOp3 for $kernel {
            fn name(&self) -> &'static str {
                <$kernel as $crate::kernels::cpu_kernel::CpuKernel>::NAME
            }

            fn cpu_fwd(
                &self,
                s1: &candle_core::CpuStorage,
                l1: &candle_core::Layout,
                s2: &candle_core::CpuStorage,
                l2: &candle_core::Layout,
                s3: &candle_core::CpuStorage,
                l3: &candle_core::Layout,
            ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
                $crate::kernels::cpu_kernel::run_cpu_kernel(self, &[(s1, l1), (s2, l2), (s3, l3)])
            }
        }
    };
}

pub(crate) use no_backward_cpu_op;
