//! The CPU fast path of [`Dense`](crate::Dense) for wide layers (the gate's
//! `512 → C_out·C_in·k·k` logits layer, 51,200 outputs for conv2): custom
//! ops whose products are split over column blocks
//! ([`par_gemm_columns`]), with the bias written into the output before
//! the product instead of added in a second pass.
//!
//! Forward `y = x·W + b`; backward `dx = dy·Wᵀ` (computed transposed, see
//! [`DenseInputGrad`]), `dW = xᵀ·dy` (column blocks), `db = Σ_rows dy`
//! (one pass in row order), each only for an input that some variable
//! depends on (a frozen model under attack needs `dx` only).

use candle_core::{
    CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, WithDType, bail,
};

use crate::kernels::column_panels::PANEL_WIDTH;
use crate::kernels::cpu_kernel::{CpuKernel, no_backward_cpu_op, run_cpu_kernel};
use crate::kernels::element::Element;
use crate::kernels::panel_gemm::{panel_forward, panel_input_grad, panel_weight_grad};
use crate::kernels::small_gemm::{Mat, gemm_new_par, par_gemm_columns};

/// Outputs from which the fast path is used: below, candle's single
/// product (already parallel) plus a broadcast add costs no more.
pub(crate) const MIN_FAST_OUTPUTS: usize = 8192;

/// `(rows, cols)` of a rank-2 layout, or an error naming the op.
fn dims2(l: &Layout, op: &str) -> Result<(usize, usize)> {
    match l.dims() {
        &[r, c] => Ok((r, c)),
        d => bail!("{op}: expected a matrix, got {d:?}"),
    }
}

/// How a dense weight is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeightLayout {
    /// `(in, out)`, row-major: products over column blocks
    /// ([`par_gemm_columns`]).
    Matrix,
    /// `(out / 16, in, 16)` column panels: `panel_gemm.rs`.
    ColumnPanels,
}

/// `y = x·W (+ b)`: `x (B, in)`, `W` `(in, out)` or in column panels,
/// `b (out)`.
pub(crate) struct DenseForward(pub WeightLayout);

impl CpuKernel for DenseForward {
    const NAME: &'static str = "sgbn-dense-forward";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let name = Self::NAME;
        let (rows, inner) = dims2(layouts[0], name)?;
        let (w_in, out) = weight_dims(self.0, layouts[1], name)?;
        if inner != w_in {
            bail!("{name}: input ({rows}, {inner}) and weight ({w_in} → {out}) disagree");
        }
        let bias = inputs.get(2).copied();
        if let Some(bias) = bias
            && bias.len() != out
        {
            bail!("{name}: bias of {} for {out} outputs", bias.len());
        }
        let y = match self.0 {
            WeightLayout::Matrix => par_gemm_columns(
                Mat::new(inputs[0], rows, inner),
                Mat::new(inputs[1], inner, out),
                bias,
            ),
            WeightLayout::ColumnPanels => {
                panel_forward(inputs[0], inputs[1], bias, rows, inner, out)
            }
        };
        Ok((y, Shape::from((rows, out))))
    }
}

impl DenseForward {
    /// The gradients to `x`, `W` (in its layout) and `b` that some variable
    /// needs.
    fn backward(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let dx = if x.track_op() {
            Some(dy.apply_op2_no_bwd(&w.contiguous()?, &DenseInputGrad(self.0))?)
        } else {
            None
        };
        let dw = if w.track_op() {
            Some(
                x.contiguous()?
                    .apply_op2_no_bwd(&dy, &DenseWeightGrad(self.0))?,
            )
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
        run_cpu_kernel(self, &[(s1, l1), (s2, l2)])
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.backward(x, w, None, dy)?;
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
        run_cpu_kernel(self, &[(s1, l1), (s2, l2), (s3, l3)])
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        self.backward(x, w, Some(b), dy)
    }
}

/// `(dy (B, out), W (in, out)) ↦ dx = dy·Wᵀ (B, in)`, computed as
/// `dxᵀ = W·dyᵀ` into a row-major `(in, B)` buffer and then transposed.
///
/// Asked for a row-major `dx`, `gemm` packs the 105 MB weight of the gate
/// layer into its panels with a transposing copy, one float at a time; asked
/// for `dxᵀ`, it reads the weight as the right-hand operand of `dy·Wᵀ` with
/// a column-major destination. On the gate's 512 → 51,200 layer at batch
/// 50, in one process (`gemm` 0.19 called directly, four rounds): 26.6–26.7
/// ms against 22.1–22.3 ms in the rounds where the machine held still. The
/// final transpose moves `B·in` floats (100 KB at batch 50).
/// With the weight in column panels, `panel_gemm.rs`'s product instead.
struct DenseInputGrad(WeightLayout);

impl CpuKernel for DenseInputGrad {
    const NAME: &'static str = "sgbn-dense-input-grad";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let name = Self::NAME;
        let (rows, out) = dims2(layouts[0], name)?;
        let (inner, w_out) = weight_dims(self.0, layouts[1], name)?;
        if out != w_out {
            bail!(
                "{name}: output gradient ({rows}, {out}) and weight ({inner} → {w_out}) disagree"
            );
        }
        if self.0 == WeightLayout::ColumnPanels {
            let dx = panel_input_grad(inputs[0], inputs[1], rows, inner, out);
            return Ok((dx, Shape::from((rows, inner))));
        }
        // dxᵀ (in, B) = W (in, out) · dyᵀ (out, B).
        let dx_t = gemm_new_par(
            Mat::new(inputs[1], inner, out),
            Mat::new(inputs[0], rows, out).t(),
        );
        let mut dx = Vec::with_capacity(rows * inner);
        for r in 0..rows {
            dx.extend(dx_t[r..].iter().step_by(rows.max(1)).take(inner));
        }
        Ok((dx, Shape::from((rows, inner))))
    }
}

no_backward_cpu_op!(DenseInputGrad, 2);

/// `(x (B, in), dy (B, out)) ↦ dW = xᵀ·dy (in, out)`, in column blocks; or
/// in column panels `(out / 16, in, 16)` by `panel_gemm.rs`.
struct DenseWeightGrad(WeightLayout);

impl CpuKernel for DenseWeightGrad {
    const NAME: &'static str = "sgbn-dense-weight-grad";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let name = Self::NAME;
        let ((rows, inner), (dy_rows, out)) = (dims2(layouts[0], name)?, dims2(layouts[1], name)?);
        if rows != dy_rows {
            bail!("{name}: {rows} inputs and {dy_rows} output gradients");
        }
        if self.0 == WeightLayout::ColumnPanels {
            if out % PANEL_WIDTH != 0 {
                bail!("{name}: {out} outputs, not a multiple of {PANEL_WIDTH}");
            }
            let dw = panel_weight_grad(inputs[0], inputs[1], rows, inner, out);
            return Ok((dw, Shape::from((out / PANEL_WIDTH, inner, PANEL_WIDTH))));
        }
        let dw = par_gemm_columns(
            Mat::new(inputs[0], rows, inner).t(),
            Mat::new(inputs[1], rows, out),
            None,
        );
        Ok((dw, Shape::from((inner, out))))
    }
}

no_backward_cpu_op!(DenseWeightGrad, 2);

/// `dy (B, out) ↦ Σ_rows dy (out)`, rows added in order (one pass,
/// reproducible).
struct ColumnSum;

impl CpuKernel for ColumnSum {
    const NAME: &'static str = "sgbn-dense-bias-grad";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let (_, cols) = dims2(layouts[0], Self::NAME)?;
        let mut total = vec![T::default(); cols];
        for row in inputs[0].chunks_exact(cols.max(1)) {
            for (s, &v) in total.iter_mut().zip(row) {
                *s += v;
            }
        }
        Ok((total, Shape::from(cols)))
    }
}

no_backward_cpu_op!(ColumnSum, 1);

/// `(in, out)` of a weight stored in `layout`, or an error naming the op.
fn weight_dims(layout: WeightLayout, l: &Layout, op: &str) -> Result<(usize, usize)> {
    match (layout, l.dims()) {
        (WeightLayout::Matrix, _) => dims2(l, op),
        (WeightLayout::ColumnPanels, &[p, i, PANEL_WIDTH]) => Ok((i, p * PANEL_WIDTH)),
        (WeightLayout::ColumnPanels, d) => {
            bail!("{op}: expected a weight in column panels (p, in, {PANEL_WIDTH}), got {d:?}")
        }
    }
}
