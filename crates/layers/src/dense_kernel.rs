//! The CPU fast path of [`Dense`](crate::Dense) for wide layers (the gate's
//! `512 → C_out·C_in·k·k` logits layer, 51,200 outputs for conv2): custom
//! ops whose products are split over column blocks
//! ([`par_gemm_columns`]), with the bias written into the output before
//! the product instead of added in a second pass.
//!
//! Forward `y = x·W + b`; backward `dx = dy·Wᵀ` (candle's product: 512
//! columns, nothing to split), `dW = xᵀ·dy` (column blocks), `db = Σ_rows dy`
//! (one pass in row order), each only for an input that some variable
//! depends on (a frozen model under attack needs `dx` only).

use candle_core::backend::BackendStorage;
use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, bail,
};

use crate::small_gemm::{Element, Mat, par_gemm_columns};

/// Outputs from which the fast path is used: below, candle's single
/// product (already parallel) plus a broadcast add costs no more.
pub(crate) const MIN_FAST_OUTPUTS: usize = 8192;

/// The contiguous slice of a storage, or an error naming the op.
fn slice<'a, T: candle_core::WithDType>(
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

/// `(rows, cols)` of a rank-2 layout, or an error naming the op.
fn dims2(l: &Layout, op: &str) -> Result<(usize, usize)> {
    match l.dims() {
        &[r, c] => Ok((r, c)),
        d => bail!("{op}: expected a matrix, got {d:?}"),
    }
}

/// `y = x·W (+ b)`: `x (B, in)`, `W (in, out)`, `b (out)`.
pub(crate) struct DenseForward;

impl DenseForward {
    fn run<T: Element + candle_core::WithDType>(
        x: (&CpuStorage, &Layout),
        w: (&CpuStorage, &Layout),
        b: Option<(&CpuStorage, &Layout)>,
    ) -> Result<(Vec<T>, Shape)> {
        let name = "sgbn-dense-forward";
        let ((rows, inner), (w_in, out)) = (dims2(x.1, name)?, dims2(w.1, name)?);
        if inner != w_in {
            bail!("{name}: input ({rows}, {inner}) and weight ({w_in}, {out}) disagree");
        }
        let bias = match b {
            Some((s, l)) => {
                let bias = slice::<T>(s, l, name)?;
                if bias.len() != out {
                    bail!("{name}: bias of {} for {out} outputs", bias.len());
                }
                Some(bias)
            }
            None => None,
        };
        let mut y = vec![T::default(); rows * out];
        par_gemm_columns(
            &mut y,
            Mat::new(slice::<T>(x.0, x.1, name)?, rows, inner),
            Mat::new(slice::<T>(w.0, w.1, name)?, inner, out),
            bias,
        );
        Ok((y, Shape::from((rows, out))))
    }

    fn dispatch(
        x: (&CpuStorage, &Layout),
        w: (&CpuStorage, &Layout),
        b: Option<(&CpuStorage, &Layout)>,
    ) -> Result<(CpuStorage, Shape)> {
        match x.0 {
            CpuStorage::F32(_) => {
                let (v, s) = Self::run::<f32>(x, w, b)?;
                Ok((CpuStorage::F32(v), s))
            }
            CpuStorage::F64(_) => {
                let (v, s) = Self::run::<f64>(x, w, b)?;
                Ok((CpuStorage::F64(v), s))
            }
            other => bail!(
                "sgbn-dense-forward: f32 or f64 only, got {:?}",
                other.dtype()
            ),
        }
    }

    /// The gradients to `x`, `W` and `b` that some variable needs.
    fn backward(
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let dx = if x.track_op() {
            Some(dy.matmul(&w.t()?)?)
        } else {
            None
        };
        let dw = if w.track_op() {
            Some(x.contiguous()?.apply_op2_no_bwd(&dy, &DenseWeightGrad)?)
        } else {
            None
        };
        let db = match b {
            Some(b) if b.track_op() => Some(dy.apply_op1_no_bwd(&ColumnSum)?),
            _ => None,
        };
        Ok((dx, dw, db))
    }
}

impl CustomOp2 for DenseForward {
    fn name(&self) -> &'static str {
        "sgbn-dense-forward"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        Self::dispatch((s1, l1), (s2, l2), None)
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = Self::backward(x, w, None, dy)?;
        Ok((dx, dw))
    }
}

impl CustomOp3 for DenseForward {
    fn name(&self) -> &'static str {
        "sgbn-dense-forward-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        Self::dispatch((s1, l1), (s2, l2), Some((s3, l3)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        Self::backward(x, w, Some(b), dy)
    }
}

/// `(x (B, in), dy (B, out)) ↦ dW = xᵀ·dy (in, out)`, in column blocks.
struct DenseWeightGrad;

impl DenseWeightGrad {
    fn run<T: Element + candle_core::WithDType>(
        x: (&CpuStorage, &Layout),
        dy: (&CpuStorage, &Layout),
    ) -> Result<(Vec<T>, Shape)> {
        let name = "sgbn-dense-weight-grad";
        let ((rows, inner), (dy_rows, out)) = (dims2(x.1, name)?, dims2(dy.1, name)?);
        if rows != dy_rows {
            bail!("{name}: {rows} inputs and {dy_rows} output gradients");
        }
        let mut dw = vec![T::default(); inner * out];
        par_gemm_columns(
            &mut dw,
            Mat::new(slice::<T>(x.0, x.1, name)?, rows, inner).t(),
            Mat::new(slice::<T>(dy.0, dy.1, name)?, rows, out),
            None,
        );
        Ok((dw, Shape::from((inner, out))))
    }
}

impl CustomOp2 for DenseWeightGrad {
    fn name(&self) -> &'static str {
        "sgbn-dense-weight-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        match s1 {
            CpuStorage::F32(_) => {
                let (v, s) = Self::run::<f32>((s1, l1), (s2, l2))?;
                Ok((CpuStorage::F32(v), s))
            }
            CpuStorage::F64(_) => {
                let (v, s) = Self::run::<f64>((s1, l1), (s2, l2))?;
                Ok((CpuStorage::F64(v), s))
            }
            other => bail!("{}: f32 or f64 only, got {:?}", self.name(), other.dtype()),
        }
    }
}

/// `dy (B, out) ↦ Σ_rows dy (out)`, rows added in order (one pass,
/// reproducible).
struct ColumnSum;

fn column_sum<T: Element>(a: &[T], cols: usize) -> Vec<T> {
    let mut total = vec![T::default(); cols];
    for row in a.chunks_exact(cols) {
        for (s, &v) in total.iter_mut().zip(row) {
            *s = *s + v;
        }
    }
    total
}

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "sgbn-dense-bias-grad"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, cols) = dims2(l, self.name())?;
        let shape = Shape::from(cols);
        match s {
            CpuStorage::F32(_) => Ok((
                CpuStorage::F32(column_sum(slice::<f32>(s, l, self.name())?, cols)),
                shape,
            )),
            CpuStorage::F64(_) => Ok((
                CpuStorage::F64(column_sum(slice::<f64>(s, l, self.name())?, cols)),
                shape,
            )),
            other => bail!("{}: f32 or f64 only, got {:?}", self.name(), other.dtype()),
        }
    }
}
