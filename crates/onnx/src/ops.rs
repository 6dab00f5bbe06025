//! The operators: each reads its inputs and attributes as the ONNX operator
//! specification (opset 7–21) defines them and computes its outputs with
//! candle's differentiable ops, so gradients flow from the logits back to
//! the image as PyTorch's autograd would take them.
//!
//! What is refused rather than approximated: padding modes other than
//! explicit pads, `ceil_mode` 1, unequal strides or dilations of a
//! convolution, a pooling's index output, training-mode batch norm and
//! dropout; each names the node.

use candle_core::{DType, Device, Shape, Tensor};

use crate::node::Node;
use crate::random::Draws;
use crate::value::{IntTensor, Value, from_proto, to_float};
use crate::{OnnxError, Result};

/// The operators this crate runs (default domain), in the order the docs
/// list them.
pub const SUPPORTED_OPS: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Bernoulli",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "Div",
    "Dropout",
    "Equal",
    "Erf",
    "Exp",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Greater",
    "GreaterOrEqual",
    "Identity",
    "LeakyRelu",
    "Less",
    "LessOrEqual",
    "Log",
    "LogSoftmax",
    "MatMul",
    "MaxPool",
    "Mul",
    "Neg",
    "Not",
    "Pow",
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "ReduceMax",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Sign",
    "Slice",
    "Softmax",
    "Softplus",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
    "Where",
];

/// The random operators: a graph with one of them is stochastic.
pub(crate) const RANDOM_OPS: &[&str] = &[
    "Bernoulli",
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
];

/// What a node's evaluation may use besides its inputs.
pub(crate) struct Context<'a, 'b> {
    pub device: &'a Device,
    pub opset: i64,
    pub draws: &'a mut Draws<'b>,
}

fn input<'v>(node: &Node, inputs: &'v [Option<Value>], i: usize) -> Result<&'v Value> {
    inputs
        .get(i)
        .and_then(Option::as_ref)
        .ok_or_else(|| node.error(format!("input {i} is missing")))
}

fn optional(inputs: &[Option<Value>], i: usize) -> Option<&Value> {
    inputs.get(i).and_then(Option::as_ref)
}

fn float<'v>(node: &Node, v: &'v Value) -> Result<&'v Tensor> {
    match v {
        Value::Float(t) => Ok(t),
        other => Err(node.error(format!("expects a float input, got {}", other.kind()))),
    }
}

fn ints<'v>(node: &Node, v: &'v Value) -> Result<&'v IntTensor> {
    match v {
        Value::Int(i) => Ok(i),
        other => Err(node.error(format!(
            "expects an integer input (computed from constants and shapes), got {}",
            other.kind()
        ))),
    }
}

fn boolean<'v>(node: &Node, v: &'v Value) -> Result<&'v Tensor> {
    match v {
        Value::Bool(t) => Ok(t),
        other => Err(node.error(format!("expects a bool input, got {}", other.kind()))),
    }
}

/// A scalar (or one-element) input as `f64`.
fn scalar(node: &Node, v: &Value) -> Result<f64> {
    match v {
        Value::Int(i) if i.data.len() == 1 => Ok(i.data[0] as f64),
        Value::Float(t) if t.elem_count() == 1 => {
            Ok(f64::from(t.flatten_all()?.to_vec1::<f32>()?[0]))
        }
        other => Err(node.error(format!(
            "expects a one-element input, got {} of shape {:?}",
            other.kind(),
            other.dims()
        ))),
    }
}

/// A shape from integers, each ≥ 0, with at most `MAX_ELEMENTS` elements.
fn shape_from(node: &Node, ints: &[i64]) -> Result<Vec<usize>> {
    let dims = ints
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| node.error(format!("negative dimension {d}"))))
        .collect::<Result<Vec<_>>>()?;
    crate::value::element_count(&dims).ok_or_else(|| {
        node.error(format!(
            "shape {dims:?} holds more than {} values",
            crate::value::MAX_ELEMENTS
        ))
    })?;
    Ok(dims)
}

/// `a` in `[-rank, rank)` as an index.
fn axis(node: &Node, a: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if a < -r || a >= r {
        return Err(node.error(format!("axis {a} is out of range for rank {rank}")));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

/// Axes from the attribute (older opsets) or the input `i` (newer ones).
fn axes_of(node: &Node, inputs: &[Option<Value>], i: usize) -> Result<Option<Vec<i64>>> {
    if let Some(a) = node.ints("axes") {
        return Ok(Some(a.to_vec()));
    }
    match optional(inputs, i) {
        Some(v) => Ok(Some(ints(node, v)?.data.clone())),
        None => Ok(None),
    }
}

/// A 2-element attribute that must hold the same value twice (candle's
/// convolutions take one stride and one dilation for both axes).
fn same_pair(node: &Node, name: &str, default: usize) -> Result<usize> {
    match node.ints(name) {
        None => Ok(default),
        Some(v) if v.len() == 2 && v[0] == v[1] && v[0] >= 1 => Ok(v[0] as usize),
        Some(v) => Err(node.error(format!(
            "{name} {v:?} is not supported (two equal values ≥ 1 are)"
        ))),
    }
}

/// The explicit pads `[top, left, bottom, right]` of a 2-D window op.
fn pads(node: &Node) -> Result<[usize; 4]> {
    if let Some(mode) = node.string("auto_pad") {
        if !(mode == "NOTSET" || mode.is_empty() || mode == "VALID") {
            return Err(node.error(format!(
                "auto_pad {mode:?} is not supported (explicit pads are; PyTorch exports those)"
            )));
        }
        if mode == "VALID" {
            return Ok([0; 4]);
        }
    }
    match node.ints("pads") {
        None => Ok([0; 4]),
        Some(p) if p.len() == 4 && p.iter().all(|&v| v >= 0) => {
            Ok([p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize])
        }
        Some(p) => Err(node.error(format!("pads {p:?}: four non-negative values expected"))),
    }
}

/// `x` padded on its two spatial axes with `value`.
fn pad2d(x: &Tensor, [t, l, b, r]: [usize; 4], value: f64) -> Result<Tensor> {
    if [t, l, b, r] == [0; 4] {
        return Ok(x.clone());
    }
    let pad = |x: &Tensor, dim: usize, before: usize, after: usize| -> Result<Tensor> {
        if before == 0 && after == 0 {
            return Ok(x.clone());
        }
        if value == 0.0 {
            return Ok(x.pad_with_zeros(dim, before, after)?);
        }
        let mut parts = Vec::with_capacity(3);
        let mut dims = x.dims().to_vec();
        if before > 0 {
            dims[dim] = before;
            parts.push(Tensor::full(value as f32, dims.as_slice(), x.device())?);
        }
        parts.push(x.clone());
        if after > 0 {
            dims[dim] = after;
            parts.push(Tensor::full(value as f32, dims.as_slice(), x.device())?);
        }
        Ok(Tensor::cat(&parts, dim)?)
    };
    let x = pad(x, 2, t, b)?;
    pad(&x, 3, l, r)
}

fn rank4<'t>(node: &Node, x: &'t Tensor) -> Result<&'t Tensor> {
    if x.rank() != 4 {
        return Err(node.error(format!(
            "only 2-D images (rank-4 inputs) are supported, got shape {:?}",
            x.dims()
        )));
    }
    Ok(x)
}

/// The common shape of `a` and `b` under numpy broadcasting.
fn broadcast_shape(node: &Node, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    Shape::from(a)
        .broadcast_shape_binary_op(&Shape::from(b), "broadcast")
        .map(|s| s.dims().to_vec())
        .map_err(|_| node.error(format!("shapes {a:?} and {b:?} do not broadcast")))
}

fn int_binary(node: &Node, a: &IntTensor, b: &IntTensor) -> Result<Value> {
    let f: fn(i64, i64) -> Option<i64> = match node.op.as_str() {
        "Add" => i64::checked_add,
        "Sub" => i64::checked_sub,
        "Mul" => i64::checked_mul,
        _ => |x, y| (y != 0).then(|| x.div_euclid(y)),
    };
    let (long, n) = if a.data.len() >= b.data.len() {
        (a, a.data.len())
    } else {
        (b, b.data.len())
    };
    if !(a.data.len() == n || a.data.len() == 1) || !(b.data.len() == n || b.data.len() == 1) {
        return Err(node.error(format!(
            "integer operands of shapes {:?} and {:?}: only equal shapes or a scalar are supported",
            a.dims, b.dims
        )));
    }
    let data = (0..n)
        .map(|i| {
            let x = a.data[if a.data.len() == 1 { 0 } else { i }];
            let y = b.data[if b.data.len() == 1 { 0 } else { i }];
            f(x, y).ok_or_else(|| {
                node.error(format!(
                    "integer {} of {x} and {y} overflows or divides by 0",
                    node.op
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Value::Int(IntTensor {
        dims: long.dims.clone(),
        data,
    }))
}

fn softmax(x: &Tensor, axis: usize, log: bool) -> Result<Tensor> {
    let m = x.max_keepdim(axis)?.detach();
    let shifted = x.broadcast_sub(&m)?;
    let e = shifted.exp()?;
    let s = e.sum_keepdim(axis)?;
    Ok(if log {
        shifted.broadcast_sub(&s.log()?)?
    } else {
        e.broadcast_div(&s)?
    })
}

/// Evaluates `node` on `inputs` (in the node's input order; `None` for an
/// omitted optional input).
pub(crate) fn eval(
    node: &Node,
    inputs: &[Option<Value>],
    ctx: &mut Context<'_, '_>,
) -> Result<Vec<Value>> {
    let op = node.op.as_str();
    let x = || input(node, inputs, 0);
    let out = |v: Value| Ok(vec![v]);
    match op {
        "Identity" => out(x()?.clone()),
        "Dropout" => {
            if node.outputs.get(1).is_some_and(|m| !m.is_empty()) {
                return Err(
                    node.error("the dropout mask output is not supported (export in eval mode)")
                );
            }
            if let Some(Value::Bool(t)) = optional(inputs, 2)
                && t.flatten_all()?.to_vec1::<u8>()?.iter().any(|&b| b != 0)
            {
                return Err(
                    node.error("training-mode dropout is not supported (export in eval mode)")
                );
            }
            out(x()?.clone())
        }
        "Constant" => {
            if let Some(t) = node.attr("value").and_then(|a| a.t.as_ref()) {
                return out(from_proto(t, ctx.device)?);
            }
            if let Some(a) = node.attr("value_float") {
                return out(Value::Float(Tensor::new(a.f, ctx.device)?));
            }
            if let Some(a) = node.attr("value_floats") {
                return out(Value::Float(Tensor::new(a.floats.as_slice(), ctx.device)?));
            }
            if let Some(a) = node.attr("value_int") {
                return out(Value::Int(IntTensor::scalar(a.i)));
            }
            if let Some(a) = node.attr("value_ints") {
                return out(Value::Int(IntTensor::vector(a.ints.clone())));
            }
            Err(node.error("no value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)"))
        }
        "ConstantOfShape" => {
            let dims = shape_from(node, &ints(node, x()?)?.data)?;
            let fill = match node.attr("value").and_then(|a| a.t.as_ref()) {
                None => Value::Float(Tensor::zeros(1, DType::F32, ctx.device)?),
                Some(t) => from_proto(t, ctx.device)?,
            };
            match fill {
                Value::Float(t) if t.elem_count() == 1 => out(Value::Float(
                    t.flatten_all()?
                        .reshape(())?
                        .broadcast_as(dims.as_slice())?
                        .contiguous()?,
                )),
                Value::Int(i) if i.data.len() == 1 => {
                    let n = dims.iter().product();
                    out(Value::Int(IntTensor {
                        dims,
                        data: vec![i.data[0]; n],
                    }))
                }
                other => Err(node.error(format!(
                    "a fill value of kind {} and shape {:?} is not supported",
                    other.kind(),
                    other.dims()
                ))),
            }
        }
        "Relu" | "Sigmoid" | "Tanh" | "Exp" | "Log" | "Abs" | "Sqrt" | "Erf" | "Sign"
        | "Softplus" | "LeakyRelu" => {
            let t = float(node, x()?)?;
            let y = match op {
                "Relu" => t.relu()?,
                // σ(x) = (tanh(x/2) + 1) / 2: no overflow for large |x|.
                "Sigmoid" => t.affine(0.5, 0.0)?.tanh()?.affine(0.5, 0.5)?,
                "Tanh" => t.tanh()?,
                "Exp" => t.exp()?,
                "Log" => t.log()?,
                "Abs" => t.abs()?,
                "Sqrt" => t.sqrt()?,
                "Erf" => t.erf()?,
                "Sign" => t.sign()?,
                // log(1 + eˣ) = max(x, 0) + log(1 + e^-|x|).
                "Softplus" => t
                    .relu()?
                    .add(&t.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?,
                _ => {
                    let alpha = f64::from(node.float("alpha", 0.01));
                    let neg = t.affine(alpha, 0.0)?;
                    t.ge(0f64)?.where_cond(t, &neg)?
                }
            };
            out(Value::Float(y))
        }
        "Neg" => match x()? {
            Value::Int(i) => out(Value::Int(IntTensor {
                dims: i.dims.clone(),
                data: i.data.iter().map(|v| -v).collect(),
            })),
            v => out(Value::Float(float(node, v)?.neg()?)),
        },
        "Add" | "Sub" | "Mul" | "Div" => {
            let (a, b) = (x()?, input(node, inputs, 1)?);
            match (a, b) {
                (Value::Int(a), Value::Int(b)) => out(int_binary(node, a, b)?),
                (Value::Float(a), Value::Float(b)) => out(Value::Float(match op {
                    "Add" => a.broadcast_add(b)?,
                    "Sub" => a.broadcast_sub(b)?,
                    "Mul" => a.broadcast_mul(b)?,
                    _ => a.broadcast_div(b)?,
                })),
                (a, b) => Err(node.error(format!(
                    "operands of kinds {} and {}: both float or both integer expected",
                    a.kind(),
                    b.kind()
                ))),
            }
        }
        "Pow" => {
            let base = float(node, x()?)?;
            let e = scalar(node, input(node, inputs, 1)?)?;
            out(Value::Float(if e == 2.0 {
                base.sqr()?
            } else {
                base.powf(e)?
            }))
        }
        "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "Equal" => {
            let a = float(node, x()?)?;
            let b = float(node, input(node, inputs, 1)?)?;
            out(Value::Bool(match op {
                "Less" => a.broadcast_lt(b)?,
                "Greater" => a.broadcast_gt(b)?,
                "LessOrEqual" => a.broadcast_le(b)?,
                "GreaterOrEqual" => a.broadcast_ge(b)?,
                _ => a.broadcast_eq(b)?,
            }))
        }
        "Not" => out(Value::Bool(boolean(node, x()?)?.eq(0u8)?)),
        "Cast" => {
            let to = node.int("to", 0) as i32;
            use crate::proto::data_type as dt;
            let v = x()?;
            match (to, v) {
                (dt::FLOAT | dt::DOUBLE, Value::Float(_)) => out(v.clone()),
                (dt::FLOAT | dt::DOUBLE, _) => out(Value::Float(to_float(v, ctx.device)?)),
                (dt::INT64 | dt::INT32, Value::Int(_)) => out(v.clone()),
                (dt::INT64 | dt::INT32, Value::Float(t)) if t.elem_count() <= 1 << 16 => {
                    let data: Vec<i64> = t
                        .flatten_all()?
                        .to_vec1::<f32>()?
                        .iter()
                        .map(|&f| f as i64)
                        .collect();
                    out(Value::Int(IntTensor {
                        dims: t.dims().to_vec(),
                        data,
                    }))
                }
                (dt::BOOL, Value::Float(t)) => out(Value::Bool(t.ne(0f64)?)),
                (dt::BOOL, Value::Bool(_)) => out(v.clone()),
                (to, v) => Err(node.error(format!(
                    "cast of a {} value to data type {to} is not supported",
                    v.kind()
                ))),
            }
        }
        "Where" => {
            let c = boolean(node, x()?)?;
            let a = float(node, input(node, inputs, 1)?)?;
            let b = float(node, input(node, inputs, 2)?)?;
            let s = broadcast_shape(node, c.dims(), &broadcast_shape(node, a.dims(), b.dims())?)?;
            out(Value::Float(c.broadcast_as(s.as_slice())?.where_cond(
                &a.broadcast_as(s.as_slice())?,
                &b.broadcast_as(s.as_slice())?,
            )?))
        }
        "MatMul" => {
            let a = float(node, x()?)?;
            let b = float(node, input(node, inputs, 1)?)?;
            if a.rank() < 2 || b.rank() < 2 {
                return Err(node.error(format!(
                    "vector operands ({:?} × {:?}) are not supported",
                    a.dims(),
                    b.dims()
                )));
            }
            out(Value::Float(if a.rank() == 2 && b.rank() == 2 {
                a.matmul(b)?
            } else {
                a.broadcast_matmul(b)?
            }))
        }
        "Gemm" => {
            let mut a = float(node, x()?)?.clone();
            let mut b = float(node, input(node, inputs, 1)?)?.clone();
            if a.rank() != 2 || b.rank() != 2 {
                return Err(node.error("Gemm takes 2-D operands"));
            }
            if node.int("transA", 0) != 0 {
                a = a.t()?;
            }
            if node.int("transB", 0) != 0 {
                b = b.t()?;
            }
            let mut y = a.matmul(&b.contiguous()?)?;
            let alpha = f64::from(node.float("alpha", 1.0));
            if alpha != 1.0 {
                y = y.affine(alpha, 0.0)?;
            }
            if let Some(c) = optional(inputs, 2) {
                let mut c = float(node, c)?.clone();
                let beta = f64::from(node.float("beta", 1.0));
                if beta != 1.0 {
                    c = c.affine(beta, 0.0)?;
                }
                y = y.broadcast_add(&c)?;
            }
            out(Value::Float(y))
        }
        "Conv" => {
            let xt = rank4(node, float(node, x()?)?)?;
            let w = float(node, input(node, inputs, 1)?)?;
            if w.rank() != 4 {
                return Err(node.error(format!(
                    "weights of shape {:?}: 2-D kernels expected",
                    w.dims()
                )));
            }
            let stride = same_pair(node, "strides", 1)?;
            let dilation = same_pair(node, "dilations", 1)?;
            let groups =
                usize::try_from(node.int("group", 1)).map_err(|_| node.error("negative group"))?;
            let p = pads(node)?;
            let (xt, padding) = if p[0] == p[1] && p[1] == p[2] && p[2] == p[3] {
                (xt.clone(), p[0])
            } else {
                (pad2d(xt, p, 0.0)?, 0)
            };
            let mut y = xt.conv2d(w, padding, stride, dilation, groups)?;
            if let Some(b) = optional(inputs, 2) {
                let b = float(node, b)?;
                y = y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?)?;
            }
            out(Value::Float(y))
        }
        "MaxPool" | "AveragePool" => {
            if node.outputs.get(1).is_some_and(|m| !m.is_empty()) {
                return Err(node.error("the indices output is not supported"));
            }
            if node.int("ceil_mode", 0) != 0 {
                return Err(node.error("ceil_mode 1 is not supported"));
            }
            if node
                .ints("dilations")
                .is_some_and(|d| d.iter().any(|&v| v != 1))
            {
                return Err(node.error("dilated pooling is not supported"));
            }
            let xt = rank4(node, float(node, x()?)?)?;
            let k = node
                .ints("kernel_shape")
                .filter(|k| k.len() == 2 && k.iter().all(|&v| v >= 1))
                .ok_or_else(|| node.error("kernel_shape: two values ≥ 1 expected"))?;
            let k = (k[0] as usize, k[1] as usize);
            let s = match node.ints("strides") {
                None => (1, 1),
                Some(s) if s.len() == 2 && s.iter().all(|&v| v >= 1) => {
                    (s[0] as usize, s[1] as usize)
                }
                Some(s) => {
                    return Err(node.error(format!("strides {s:?}: two values ≥ 1 expected")));
                }
            };
            let p = pads(node)?;
            let y = if op == "MaxPool" {
                let windows = windows(node, &pad2d(xt, p, f64::NEG_INFINITY)?, k, s, ctx.device)?;
                // The gradient goes to the first maximum of each window, as
                // PyTorch's does (candle 0.11's max_pool2d backward scales it
                // by the share of maxima in the window instead: docs/onnx.md).
                let last = windows.rank() - 1;
                let first_max = windows.argmax_keepdim(last)?;
                windows.gather(&first_max, last)?.squeeze(last)?
            } else {
                if p != [0; 4] && node.int("count_include_pad", 0) == 0 {
                    return Err(node
                        .error("padded average pooling that excludes the pads is not supported"));
                }
                let windows = windows(node, &pad2d(xt, p, 0.0)?, k, s, ctx.device)?;
                windows.mean(windows.rank() - 1)?
            };
            out(Value::Float(y))
        }
        "GlobalAveragePool" => {
            let xt = rank4(node, float(node, x()?)?)?;
            out(Value::Float(xt.mean_keepdim(3)?.mean_keepdim(2)?))
        }
        "GlobalMaxPool" => {
            let xt = rank4(node, float(node, x()?)?)?;
            out(Value::Float(xt.max_keepdim(3)?.max_keepdim(2)?))
        }
        "BatchNormalization" => {
            if node.int("training_mode", 0) != 0
                || node.outputs.iter().skip(1).any(|o| !o.is_empty())
            {
                return Err(
                    node.error("training-mode batch norm is not supported (export in eval mode)")
                );
            }
            let xt = float(node, x()?)?;
            if xt.rank() < 2 {
                return Err(node.error("input of rank < 2"));
            }
            let mut shape = vec![1usize; xt.rank()];
            shape[1] = xt.dims()[1];
            let p = |i: usize| -> Result<Tensor> {
                Ok(float(node, input(node, inputs, i)?)?.reshape(shape.as_slice())?)
            };
            let (scale, bias, mean, var) = (p(1)?, p(2)?, p(3)?, p(4)?);
            let eps = f64::from(node.float("epsilon", 1e-5));
            let inv = var.affine(1.0, eps)?.sqrt()?.recip()?;
            let y = xt
                .broadcast_sub(&mean)?
                .broadcast_mul(&inv.mul(&scale)?)?
                .broadcast_add(&bias)?;
            out(Value::Float(y))
        }
        "Flatten" => {
            let v = x()?;
            let dims = v.dims();
            let a = axis(node, node.int("axis", 1), dims.len() + 1)?;
            let (outer, inner) = (
                dims[..a].iter().product::<usize>(),
                dims[a..].iter().product::<usize>(),
            );
            out(reshape(node, v, &[outer, inner])?)
        }
        "Reshape" => {
            let v = x()?;
            let spec = ints(node, input(node, inputs, 1)?)?;
            let dims = v.dims();
            let allow_zero = node.int("allowzero", 0) != 0;
            let mut shape = Vec::with_capacity(spec.data.len());
            let mut infer = None;
            for (i, &d) in spec.data.iter().enumerate() {
                match d {
                    -1 if infer.is_none() => {
                        infer = Some(i);
                        shape.push(1);
                    }
                    0 if !allow_zero => shape.push(*dims.get(i).ok_or_else(|| {
                        node.error(format!("shape {:?} copies a missing axis {i}", spec.data))
                    })?),
                    d if d >= 0 => shape.push(d as usize),
                    _ => return Err(node.error(format!("shape {:?} is not valid", spec.data))),
                }
            }
            let total: usize = dims.iter().product();
            if let Some(i) = infer {
                let known = crate::value::element_count(&shape).unwrap_or(0);
                if known == 0 || !total.is_multiple_of(known) {
                    return Err(node.error(format!("cannot reshape {dims:?} to {:?}", spec.data)));
                }
                shape[i] = total / known;
            }
            out(reshape(node, v, &shape)?)
        }
        "Squeeze" | "Unsqueeze" => {
            let v = x()?;
            let dims = v.dims();
            let axes = axes_of(node, inputs, 1)?;
            let new = if op == "Squeeze" {
                match axes {
                    None => dims.iter().copied().filter(|&d| d != 1).collect(),
                    Some(axes) => {
                        let axes = axes
                            .iter()
                            .map(|&a| axis(node, a, dims.len()))
                            .collect::<Result<Vec<_>>>()?;
                        if axes.iter().any(|&a| dims[a] != 1) {
                            return Err(
                                node.error(format!("squeezes an axis of {dims:?} that is not 1"))
                            );
                        }
                        dims.iter()
                            .enumerate()
                            .filter(|(i, _)| !axes.contains(i))
                            .map(|(_, &d)| d)
                            .collect()
                    }
                }
            } else {
                let axes = axes.ok_or_else(|| node.error("axes are missing"))?;
                let rank = dims.len() + axes.len();
                let mut axes = axes
                    .iter()
                    .map(|&a| axis(node, a, rank))
                    .collect::<Result<Vec<_>>>()?;
                axes.sort_unstable();
                let mut new = dims.clone();
                for a in axes {
                    new.insert(a, 1);
                }
                new
            };
            out(reshape(node, v, &new)?)
        }
        "Transpose" => {
            let t = float(node, x()?)?;
            let perm: Vec<usize> = match node.ints("perm") {
                None => (0..t.rank()).rev().collect(),
                Some(p) => p
                    .iter()
                    .map(|&a| axis(node, a, t.rank()))
                    .collect::<Result<_>>()?,
            };
            out(Value::Float(t.permute(perm)?))
        }
        "Concat" => {
            let values: Vec<&Value> = inputs.iter().flatten().collect();
            let first = values.first().ok_or_else(|| node.error("no inputs"))?;
            let a = axis(node, node.int("axis", 0), first.dims().len().max(1))?;
            if values.iter().all(|v| matches!(v, Value::Int(_))) {
                if first.dims().len() != 1 {
                    return Err(node
                        .error("integer concatenation of more than 1-D values is not supported"));
                }
                let data = values
                    .iter()
                    .map(|v| ints(node, v).map(|i| i.data.clone()))
                    .collect::<Result<Vec<_>>>()?
                    .concat();
                return out(Value::Int(IntTensor::vector(data)));
            }
            let ts = values
                .iter()
                .map(|v| float(node, v).cloned())
                .collect::<Result<Vec<_>>>()?;
            out(Value::Float(Tensor::cat(&ts, a)?))
        }
        "Shape" => {
            let dims: Vec<i64> = x()?.dims().iter().map(|&d| d as i64).collect();
            let r = dims.len() as i64;
            let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) } as usize;
            let (s, e) = (clamp(node.int("start", 0)), clamp(node.int("end", r)));
            out(Value::Int(IntTensor::vector(dims[s..e.max(s)].to_vec())))
        }
        "Gather" => {
            let v = x()?;
            let idx = ints(node, input(node, inputs, 1)?)?;
            let dims = v.dims();
            let a = axis(node, node.int("axis", 0), dims.len())?;
            let n = dims[a] as i64;
            let positions = idx
                .data
                .iter()
                .map(|&i| {
                    let j = if i < 0 { i + n } else { i };
                    if (0..n).contains(&j) {
                        Ok(j as usize)
                    } else {
                        Err(node.error(format!("index {i} is out of range for an axis of {n}")))
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            match v {
                Value::Int(t) => {
                    if t.dims.len() != 1 {
                        return Err(node
                            .error("gathering from a integer value of rank > 1 is not supported"));
                    }
                    let data = positions.iter().map(|&p| t.data[p]).collect();
                    out(Value::Int(IntTensor {
                        dims: idx.dims.clone(),
                        data,
                    }))
                }
                v => {
                    let t = float(node, v)?;
                    let ix = Tensor::from_vec(
                        positions.iter().map(|&p| p as u32).collect::<Vec<_>>(),
                        positions.len(),
                        ctx.device,
                    )?;
                    let g = t.index_select(&ix, a)?;
                    let mut shape = dims[..a].to_vec();
                    shape.extend_from_slice(&idx.dims);
                    shape.extend_from_slice(&dims[a + 1..]);
                    out(Value::Float(g.reshape(shape)?))
                }
            }
        }
        "Slice" => {
            let v = x()?;
            let dims = v.dims();
            let (starts, ends) = match (node.ints("starts"), node.ints("ends")) {
                (Some(s), Some(e)) => (s.to_vec(), e.to_vec()),
                _ => (
                    ints(node, input(node, inputs, 1)?)?.data.clone(),
                    ints(node, input(node, inputs, 2)?)?.data.clone(),
                ),
            };
            let axes = match axes_of(node, inputs, 3)? {
                Some(a) => a,
                None => (0..starts.len() as i64).collect(),
            };
            let steps = match optional(inputs, 4) {
                Some(s) => ints(node, s)?.data.clone(),
                None => vec![1; starts.len()],
            };
            if starts.len() != ends.len()
                || axes.len() != starts.len()
                || steps.len() != starts.len()
            {
                return Err(node.error("starts, ends, axes and steps differ in length"));
            }
            let mut v = v.clone();
            for (((&s, &e), &a), &step) in starts.iter().zip(&ends).zip(&axes).zip(&steps) {
                let a = axis(node, a, dims.len())?;
                let n = dims[a] as i64;
                if step != 1 {
                    return Err(node.error(format!("step {step} is not supported (1 is)")));
                }
                let fix = |i: i64| (if i < 0 { i + n } else { i }).clamp(0, n) as usize;
                let (s, e) = (fix(s), fix(e));
                let len = e.saturating_sub(s);
                v = match v {
                    Value::Int(t) if t.dims.len() == 1 => {
                        Value::Int(IntTensor::vector(t.data[s..s + len].to_vec()))
                    }
                    Value::Float(t) => Value::Float(t.narrow(a, s, len)?),
                    other => {
                        return Err(node.error(format!(
                            "slicing a {} value of shape {:?} is not supported",
                            other.kind(),
                            other.dims()
                        )));
                    }
                };
            }
            out(v)
        }
        "Softmax" | "LogSoftmax" => {
            let t = float(node, x()?)?;
            let default = if ctx.opset >= 13 { -1 } else { 1 };
            let a = axis(node, node.int("axis", default), t.rank())?;
            if ctx.opset < 13 && a != t.rank() - 1 {
                return Err(node.error(
                    "before opset 13 a softmax over a non-last axis flattens the trailing axes, which is not supported",
                ));
            }
            out(Value::Float(softmax(t, a, op == "LogSoftmax")?))
        }
        "Clip" => {
            let t = float(node, x()?)?;
            let (lo, hi) = if node.attr("min").is_some() || node.attr("max").is_some() {
                (
                    f64::from(node.float("min", f32::MIN)),
                    f64::from(node.float("max", f32::MAX)),
                )
            } else {
                (
                    optional(inputs, 1)
                        .map(|v| scalar(node, v))
                        .transpose()?
                        .unwrap_or(f64::from(f32::MIN)),
                    optional(inputs, 2)
                        .map(|v| scalar(node, v))
                        .transpose()?
                        .unwrap_or(f64::from(f32::MAX)),
                )
            };
            out(Value::Float(t.clamp(lo as f32, hi as f32)?))
        }
        "ReduceMean" | "ReduceSum" | "ReduceMax" => {
            let t = float(node, x()?)?;
            let keep = node.int("keepdims", 1) != 0;
            let mut axes: Vec<usize> = match axes_of(node, inputs, 1)? {
                Some(a) if !a.is_empty() => a
                    .iter()
                    .map(|&a| axis(node, a, t.rank()))
                    .collect::<Result<_>>()?,
                _ if node.int("noop_with_empty_axes", 0) != 0 => {
                    return out(Value::Float(t.clone()));
                }
                _ => (0..t.rank()).collect(),
            };
            axes.sort_unstable();
            let mut y = t.clone();
            for &a in axes.iter().rev() {
                y = match op {
                    "ReduceMean" => y.mean_keepdim(a)?,
                    "ReduceSum" => y.sum_keepdim(a)?,
                    _ => y.max_keepdim(a)?,
                };
            }
            if !keep {
                for &a in axes.iter().rev() {
                    y = y.squeeze(a)?;
                }
            }
            out(Value::Float(y))
        }
        "RandomUniformLike" | "RandomNormalLike" | "RandomUniform" | "RandomNormal" => {
            if let Some(dt) = node.attr("dtype")
                && !(dt.i == i64::from(crate::proto::data_type::FLOAT)
                    || dt.i == i64::from(crate::proto::data_type::DOUBLE))
            {
                return Err(node.error(format!("dtype {} is not supported (float is)", dt.i)));
            }
            let dims: Vec<usize> = if op.ends_with("Like") {
                x()?.dims()
            } else {
                shape_from(
                    node,
                    node.ints("shape")
                        .ok_or_else(|| node.error("the shape attribute is missing"))?,
                )?
            };
            let y = if op.starts_with("RandomUniform") {
                let (lo, hi) = (
                    f64::from(node.float("low", 0.0)),
                    f64::from(node.float("high", 1.0)),
                );
                ctx.draws
                    .uniform(node, &dims, ctx.device)?
                    .affine(hi - lo, lo)?
            } else {
                let (mean, scale) = (
                    f64::from(node.float("mean", 0.0)),
                    f64::from(node.float("scale", 1.0)),
                );
                ctx.draws
                    .normal(node, &dims, ctx.device)?
                    .affine(scale, mean)?
            };
            out(Value::Float(y))
        }
        "Bernoulli" => {
            let p = float(node, x()?)?.detach();
            let u = ctx.draws.uniform(node, p.dims(), ctx.device)?;
            out(Value::Float(u.lt(&p)?.to_dtype(DType::F32)?))
        }
        other => Err(OnnxError::UnsupportedOp {
            node: node.name.clone(),
            op: other.to_string(),
        }),
    }
}

/// The pooling windows of `x` `(B, C, H, W)`: `(B, C, H', W', kh·kw)`, by
/// index selection (differentiable for any kernel and stride).
fn windows(
    node: &Node,
    x: &Tensor,
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    device: &Device,
) -> Result<Tensor> {
    let (h, w) = (x.dims()[2], x.dims()[3]);
    if h < kh || w < kw {
        return Err(node.error(format!("a {kh}×{kw} window on a {h}×{w} input")));
    }
    let (oh, ow) = ((h - kh) / sh + 1, (w - kw) / sw + 1);
    let rows = |offset: usize, n: usize, stride: usize| -> Result<Tensor> {
        Ok(Tensor::from_vec(
            (0..n)
                .map(|o| (o * stride + offset) as u32)
                .collect::<Vec<_>>(),
            n,
            device,
        )?)
    };
    let mut parts = Vec::with_capacity(kh * kw);
    for i in 0..kh {
        let xi = x.index_select(&rows(i, oh, sh)?, 2)?;
        for j in 0..kw {
            parts.push(xi.index_select(&rows(j, ow, sw)?, 3)?);
        }
    }
    Ok(Tensor::stack(&parts, 4)?)
}

fn reshape(node: &Node, v: &Value, shape: &[usize]) -> Result<Value> {
    let n: usize = v.dims().iter().product();
    if crate::value::element_count(shape) != Some(n) {
        return Err(node.error(format!("cannot reshape {:?} to {shape:?}", v.dims())));
    }
    Ok(match v {
        Value::Float(t) => Value::Float(t.reshape(shape)?),
        Value::Bool(t) => Value::Bool(t.reshape(shape)?),
        Value::Int(i) => Value::Int(IntTensor {
            dims: shape.to_vec(),
            data: i.data.clone(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_ops_are_sorted_and_unique() {
        let mut sorted = SUPPORTED_OPS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, SUPPORTED_OPS);
        assert!(RANDOM_OPS.iter().all(|r| SUPPORTED_OPS.contains(r)));
    }

    #[test]
    fn softmax_rows_sum_to_one_and_log_softmax_is_its_log() -> Result<()> {
        let x = Tensor::new(&[[1f32, 2., 3.], [-50., 0., 50.]], &Device::Cpu)?;
        let s = softmax(&x, 1, false)?;
        let sums = s.sum(1)?.to_vec1::<f32>()?;
        assert!(sums.iter().all(|v| (v - 1.0).abs() < 1e-6), "{sums:?}");
        let l = softmax(&x, 1, true)?.exp()?;
        let d = (l - s)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(d < 1e-6, "{d}");
        Ok(())
    }
}
