//! The column-panel layout of a wide [`Dense`](crate::Dense) layer's
//! weight: `W (in, out)` held as a `(out / 16, in, 16)` tensor, panel `p`
//! being the row-major block of columns `16p .. 16p + 16`.
//!
//! [`dense`](crate::dense) stores the weight of a layer with at least
//! 8,192 outputs, a multiple of 16, on the CPU in this layout, so that its
//! products stream the weight panel by panel without packing it (see
//! `panel_gemm.rs`; the gate's 512 → 51,200 layer, whose forward this made
//! about a third faster). Every other layer, and every layer on another
//! device, stores `(in, out)`.
//!
//! The layout is a storage detail: elementwise code (optimizers, weight
//! penalties) does not see it, [`Dense::weight_matrix`](crate::Dense::weight_matrix)
//! gives the `(in, out)` matrix, and [`convert_dense_weight`] lets a
//! checkpoint written in one layout load into a model built in the other.

use candle_core::Tensor;

use crate::{LayerError, Result};

/// Columns per panel.
pub const PANEL_WIDTH: usize = 16;

/// `(in, out)` → `(out / 16, in, 16)`. Differentiable (tensor ops).
///
/// # Errors
/// If `w` is not a matrix or its column count is not a multiple of 16.
pub fn to_column_panels(w: &Tensor) -> Result<Tensor> {
    let (inputs, outputs) = w.dims2()?;
    if outputs % PANEL_WIDTH != 0 {
        return Err(LayerError::BadInput {
            layer: "column panels",
            expected: format!("a matrix with a multiple of {PANEL_WIDTH} columns"),
            found: w.dims().to_vec(),
        });
    }
    Ok(w.reshape((inputs, outputs / PANEL_WIDTH, PANEL_WIDTH))?
        .transpose(0, 1)?
        .contiguous()?)
}

/// `(out / 16, in, 16)` → `(in, out)`, the inverse of [`to_column_panels`].
/// Differentiable (tensor ops).
///
/// # Errors
/// If `panels` is not of rank 3 with a last dimension of 16.
pub fn from_column_panels(panels: &Tensor) -> Result<Tensor> {
    match panels.dims() {
        &[count, inputs, PANEL_WIDTH] => Ok(panels
            .transpose(0, 1)?
            .contiguous()?
            .reshape((inputs, count * PANEL_WIDTH))?),
        found => Err(LayerError::BadInput {
            layer: "column panels",
            expected: format!("(panels, inputs, {PANEL_WIDTH})"),
            found: found.to_vec(),
        }),
    }
}

/// A dense weight `t`, stored in either layout, converted to the layout
/// whose dimensions are `dims`: `Some(t)` in `dims`, or `None` when `t` is
/// not the same weight in the other layout (the caller reports the shape).
///
/// # Errors
/// Only candle's, from the conversion.
pub fn convert_dense_weight(t: &Tensor, dims: &[usize]) -> Result<Option<Tensor>> {
    match (t.dims(), dims) {
        (&[inputs, outputs], &[count, i, PANEL_WIDTH])
            if i == inputs && count * PANEL_WIDTH == outputs =>
        {
            to_column_panels(t).map(Some)
        }
        (&[count, inputs, PANEL_WIDTH], &[i, outputs])
            if i == inputs && count * PANEL_WIDTH == outputs =>
        {
            from_column_panels(t).map(Some)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn panels_hold_sixteen_columns_each_and_round_trip() {
        let w = Tensor::arange(0f32, 96.0, &Device::Cpu)
            .expect("arange")
            .reshape((3, 32))
            .expect("reshape");
        let p = to_column_panels(&w).expect("panels");
        assert_eq!(p.dims(), &[2, 3, 16]);
        let v = p
            .flatten_all()
            .expect("flat")
            .to_vec1::<f32>()
            .expect("vec");
        assert_eq!(&v[..3], &[0.0, 1.0, 2.0]);
        assert_eq!(v[16], 32.0);
        assert_eq!(v[48], 16.0);
        let back = from_column_panels(&p).expect("matrix");
        assert_eq!(
            back.to_vec2::<f32>().expect("v"),
            w.to_vec2::<f32>().expect("v")
        );
        let converted = convert_dense_weight(&w, &[2, 3, 16])
            .expect("ok")
            .expect("some");
        assert_eq!(
            converted
                .flatten_all()
                .expect("f")
                .to_vec1::<f32>()
                .expect("v"),
            v
        );
        let again = convert_dense_weight(&p, &[3, 32])
            .expect("ok")
            .expect("some");
        assert_eq!(
            again.to_vec2::<f32>().expect("v"),
            w.to_vec2::<f32>().expect("v")
        );
        assert!(convert_dense_weight(&w, &[4, 3, 16]).expect("ok").is_none());
        assert!(convert_dense_weight(&w, &[32, 3]).expect("ok").is_none());
        assert!(to_column_panels(&w.narrow(1, 0, 20).expect("n")).is_err());
        assert!(from_column_panels(&w).is_err());
    }
}
