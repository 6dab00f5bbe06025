//! The values that flow along a graph's edges.
//!
//! Float tensors are candle tensors on the model's device (gradients flow
//! through them); integer tensors (shapes, indices, axes) are small and live
//! on the host, as the shape arithmetic of an exported graph needs; booleans
//! (comparisons, the masks of a stochastic model) are `u8` candle tensors,
//! which carry no gradient, as in PyTorch.

use candle_core::{DType, Device, Tensor};

use crate::proto::{TensorProto, data_type};
use crate::{OnnxError, Result};

/// A value of the graph.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// float32 (and float64, read as float32).
    Float(Tensor),
    /// int64 (and the other integer types).
    Int(IntTensor),
    /// bool, as a `u8` tensor of 0 and 1.
    Bool(Tensor),
}

/// A host-side integer tensor, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IntTensor {
    pub dims: Vec<usize>,
    pub data: Vec<i64>,
}

impl IntTensor {
    pub fn vector(data: Vec<i64>) -> Self {
        Self {
            dims: vec![data.len()],
            data,
        }
    }

    pub fn scalar(v: i64) -> Self {
        Self {
            dims: vec![],
            data: vec![v],
        }
    }
}

impl Value {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Float(_) => "float",
            Value::Int(_) => "int",
            Value::Bool(_) => "bool",
        }
    }

    pub fn dims(&self) -> Vec<usize> {
        match self {
            Value::Float(t) | Value::Bool(t) => t.dims().to_vec(),
            Value::Int(i) => i.dims.clone(),
        }
    }
}

/// The most elements one value of a graph may hold (2³¹): a file that
/// asks for more is refused rather than allowed to exhaust memory.
pub(crate) const MAX_ELEMENTS: usize = 1 << 31;

/// The number of elements of `dims`, `None` beyond [`MAX_ELEMENTS`].
pub(crate) fn element_count(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// Reads a constant tensor (an initializer or a `Constant`'s value).
pub(crate) fn from_proto(t: &TensorProto, device: &Device) -> Result<Value> {
    let bad = |m: String| OnnxError::NotOnnx(format!("tensor {:?}: {m}", t.name));
    if t.data_location == 1 || !t.external_data.is_empty() {
        return Err(bad(
            "its data is in an external file, which is not supported (export without external data)"
                .into(),
        ));
    }
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(format!("negative dimension {d}"))))
        .collect::<Result<_>>()?;
    let n = element_count(&dims).ok_or_else(|| {
        bad(format!(
            "shape {dims:?} holds more than {MAX_ELEMENTS} values"
        ))
    })?;
    let raw = &t.raw_data;
    let check = |len: usize| {
        if len == n {
            Ok(())
        } else {
            Err(bad(format!(
                "shape {dims:?} holds {n} values, the data {len}"
            )))
        }
    };
    let le = |width: usize| -> Result<Vec<[u8; 8]>> {
        if raw.len() != n * width {
            return Err(bad(format!(
                "shape {dims:?} needs {} bytes, raw_data has {}",
                n * width,
                raw.len()
            )));
        }
        Ok(raw
            .chunks_exact(width)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..width].copy_from_slice(c);
                b
            })
            .collect())
    };
    match t.data_type {
        data_type::FLOAT | data_type::DOUBLE => {
            let v: Vec<f32> = if !raw.is_empty() {
                if t.data_type == data_type::FLOAT {
                    le(4)?
                        .iter()
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                } else {
                    le(8)?
                        .iter()
                        .map(|b| f64::from_le_bytes(*b) as f32)
                        .collect()
                }
            } else if t.data_type == data_type::FLOAT {
                t.float_data.clone()
            } else {
                t.double_data.iter().map(|&v| v as f32).collect()
            };
            check(v.len())?;
            Ok(Value::Float(Tensor::from_vec(v, dims, device)?))
        }
        data_type::INT64 | data_type::INT32 | data_type::INT8 | data_type::UINT8 => {
            let v: Vec<i64> = if !raw.is_empty() {
                match t.data_type {
                    data_type::INT64 => le(8)?.iter().map(|b| i64::from_le_bytes(*b)).collect(),
                    data_type::INT32 => le(4)?
                        .iter()
                        .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                        .collect(),
                    data_type::INT8 => le(1)?.iter().map(|b| i64::from(b[0] as i8)).collect(),
                    _ => le(1)?.iter().map(|b| i64::from(b[0])).collect(),
                }
            } else if t.data_type == data_type::INT64 {
                t.int64_data.clone()
            } else {
                t.int32_data.iter().map(|&v| i64::from(v)).collect()
            };
            check(v.len())?;
            Ok(Value::Int(IntTensor { dims, data: v }))
        }
        data_type::BOOL => {
            let v: Vec<u8> = if !raw.is_empty() {
                le(1)?.iter().map(|b| u8::from(b[0] != 0)).collect()
            } else {
                t.int32_data.iter().map(|&v| u8::from(v != 0)).collect()
            };
            check(v.len())?;
            Ok(Value::Bool(Tensor::from_vec(v, dims, device)?))
        }
        other => Err(bad(format!(
            "data type {other} is not supported (float, double, int8/32/64, uint8, bool are)"
        ))),
    }
}

/// A float tensor of `v`'s values (integers and booleans converted).
pub(crate) fn to_float(v: &Value, device: &Device) -> Result<Tensor> {
    Ok(match v {
        Value::Float(t) => t.clone(),
        Value::Bool(t) => t.to_dtype(DType::F32)?,
        Value::Int(i) => Tensor::from_vec(
            i.data.iter().map(|&x| x as f32).collect::<Vec<_>>(),
            i.dims.clone(),
            device,
        )?,
    })
}
