//! PyTorch interop: a model's state in PyTorch's names and layouts, as a
//! safetensors file that the Python module `python/sgbn_torch` loads, and
//! the way back (docs/interop.md).
//!
//! The names are the model's own (`conv0.weight`, `bn0.running_var`,
//! `gate0.hidden1.weight`, `hidden.bias`, `output.weight`, …), which are the
//! attribute paths of the Python module's `SgbnNet`. The layouts are
//! PyTorch's: conv weights `(out, in, kH, kW)` (ours already), linear
//! weights `(out, in)` (ours are `(in, out)` or column panels, see
//! [`sgbn_layers::convert_dense_weight`]), batch norm's `weight`, `bias`,
//! `running_mean`, `running_var` and an `int64` `num_batches_tracked` of 0.
//! The header holds the format tag [`PYTORCH_FORMAT`], the [`ModelSpec`]
//! (JSON, from which the Python side builds the same network) and the slope
//! `m` of the dense binary unit at evaluation ([`PYTORCH_SLOPE_KEY`]).
//!
//! Models with BNN layers, random masks, adaptive dropout, SAP, gate probes,
//! REINFORCE units or ±1 gate masks have no PyTorch twin yet: exporting one
//! fails with [`ModelError::InvalidSpec`] naming the part.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
};

use candle_core::{DType, Device, Tensor};
use sgbn_layers::GateOutput;

use crate::{Classifier, ConvNet, DenseUnit, Gated, ModelError, ModelSpec, Result};

/// The format tag of an exported file.
pub const PYTORCH_FORMAT: &str = "sgbn-pytorch-1";
/// Header key of the evaluation slope of the dense binary unit.
pub const PYTORCH_SLOPE_KEY: &str = "sgbn.slope";

/// Whether `spec` can be exported: CNN, CNN-BIN and the SGBN family with ST
/// or DT gates (shared-weight 1W gates included), in any size.
pub fn check_exportable(spec: &ModelSpec) -> Result<()> {
    let refuse = |part: &str| {
        Err(ModelError::InvalidSpec(format!(
            "{}: {part} has no PyTorch twin in python/sgbn_torch; exportable are CNN, CNN-BIN \
             and the SGBN family with ST or DT gates",
            spec.name
        )))
    };
    for (i, c) in spec.convs.iter().enumerate() {
        if c.bnn.is_some() {
            return refuse(&format!("conv {i}'s BNN layer"));
        }
        if c.random_mask.is_some() {
            return refuse(&format!("conv {i}'s random weight masks"));
        }
        if c.adaptive_dropout.is_some() {
            return refuse(&format!("conv {i}'s adaptive dropout"));
        }
        if c.gate
            .as_ref()
            .is_some_and(|g| g.output == GateOutput::StochasticSign)
        {
            return refuse(&format!("gate {i}'s ±1 masks"));
        }
    }
    if spec.sap {
        return refuse("stochastic activation pruning");
    }
    if spec.hidden_bnn.is_some() {
        return refuse("the BNN hidden layer");
    }
    if spec.probe.is_some() {
        return refuse("the gate probe head");
    }
    if spec.dense_unit == DenseUnit::Reinforce {
        return refuse("the REINFORCE unit");
    }
    Ok(())
}

/// Whether the state tensor `name` of shape `dims` is a dense layer's
/// weight (stored `(in, out)` or in column panels; conv weights have rank 4,
/// batch-norm weights rank 1).
fn is_dense_weight(name: &str, dims: &[usize]) -> bool {
    name.ends_with(".weight") && matches!(dims.len(), 2 | 3)
}

/// `model`'s state in PyTorch's names and layouts, sorted by name.
pub fn pytorch_state(model: &dyn Classifier) -> Result<Vec<(String, Tensor)>> {
    check_exportable(model.spec())?;
    let mut out = Vec::new();
    for (name, var) in model.state() {
        let t = var.as_tensor().detach();
        let t = if is_dense_weight(&name, t.dims()) {
            let matrix = match t.dims() {
                &[count, inputs, width] => {
                    sgbn_layers::convert_dense_weight(&t, &[inputs, count * width])?.ok_or_else(
                        || ModelError::InvalidSpec(format!("{name}: not in column panels")),
                    )?
                }
                _ => t,
            };
            matrix.t()?.contiguous()?
        } else {
            t
        };
        if let Some(layer) = name.strip_suffix(".running_mean") {
            let tracked = Tensor::new(0i64, &Device::Cpu)?;
            out.push((format!("{layer}.num_batches_tracked"), tracked));
        }
        out.push((name, t.to_dtype(DType::F32)?.to_device(&Device::Cpu)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Writes `model` for PyTorch to `path` (atomically), with the evaluation
/// slope `slope` of its dense binary unit (the last training slope).
pub fn save_pytorch(model: &dyn Classifier, slope: f64, path: &Path) -> Result<()> {
    let bad = |reason: String| ModelError::BadCheckpoint {
        path: path.to_path_buf(),
        reason,
    };
    if !slope.is_finite() || slope <= 0.0 {
        return Err(bad(format!("slope {slope} must be a positive number")));
    }
    let state = pytorch_state(model)?;
    let spec = serde_json::to_string(model.spec()).map_err(|e| bad(e.to_string()))?;
    let header: HashMap<String, String> = [
        (crate::FORMAT_KEY.to_string(), PYTORCH_FORMAT.to_string()),
        (crate::SPEC_KEY.to_string(), spec),
        (PYTORCH_SLOPE_KEY.to_string(), format!("{slope:?}")),
    ]
    .into_iter()
    .collect();
    let bytes = safetensors::serialize(state.iter().map(|(n, t)| (n.as_str(), t)), Some(header))
        .map_err(|e| bad(e.to_string()))?;
    crate::checkpoint::write_sorted(path, &bytes)
}

/// A model read from a PyTorch-layout file (written by [`save_pytorch`] or
/// by `sgbn_torch.save` in Python).
#[derive(Debug)]
pub struct PytorchImport {
    /// The model, built from the file's spec with the file's parameters.
    pub model: ConvNet,
    /// The evaluation slope of its dense binary unit.
    pub slope: f64,
}

/// Reads a PyTorch-layout file: builds the model from its spec and loads
/// every tensor, converting linear weights back to this crate's layouts.
/// Every tensor the model needs must be there with PyTorch's shape.
pub fn load_pytorch(path: &Path, device: &Device) -> Result<PytorchImport> {
    let bad = |reason: String| ModelError::BadCheckpoint {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = crate::read_regular_file(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let crate::checkpoint::TaggedFile {
        spec,
        metadata,
        tensors,
    } = crate::checkpoint::read_tagged(
        path,
        &bytes,
        PYTORCH_FORMAT,
        "an sgbn PyTorch export",
        device,
    )?;
    let slope: f64 = metadata
        .get(PYTORCH_SLOPE_KEY)
        .ok_or_else(|| bad(format!("no {PYTORCH_SLOPE_KEY} in the header")))?
        .parse()
        .map_err(|e| bad(format!("{PYTORCH_SLOPE_KEY}: {e}")))?;
    if !slope.is_finite() || slope <= 0.0 {
        return Err(bad(format!("slope {slope} must be a positive number")));
    }
    check_exportable(&spec)?;
    let model = ConvNet::new(&spec, 0, device)?;
    let state = model.state();
    let mut values = Vec::with_capacity(state.len());
    for (name, var) in &state {
        let t = tensors.get(name).ok_or_else(|| ModelError::MissingTensor {
            path: path.to_path_buf(),
            name: name.clone(),
        })?;
        crate::checkpoint::check_dtype(path, name, t, var.as_tensor())?;
        let dims = var.as_tensor().dims();
        let wrong = || ModelError::WrongShape {
            path: path.to_path_buf(),
            name: name.clone(),
            expected: torch_dims(name, dims),
            found: t.dims().to_vec(),
        };
        if t.dims() != torch_dims(name, dims) {
            return Err(wrong());
        }
        let t = if is_dense_weight(name, dims) {
            crate::checkpoint::in_layout(name, &t.t()?.contiguous()?, dims)?.ok_or_else(wrong)?
        } else {
            t.clone()
        };
        values.push(t);
    }
    // An export holds the model's state and nothing else but PyTorch's
    // `num_batches_tracked` of each batch norm (written by `pytorch_state`,
    // not used here).
    let batch_norms: std::collections::HashSet<&str> = state
        .iter()
        .filter_map(|(n, _)| n.strip_suffix(".running_mean"))
        .collect();
    crate::checkpoint::check_no_stray_tensors(path, tensors.keys(), &state, |name| {
        name.strip_suffix(".num_batches_tracked")
            .is_some_and(|layer| batch_norms.contains(layer))
    })?;
    for ((_, var), t) in state.iter().zip(values) {
        var.set(&t)?;
    }
    Ok(PytorchImport { model, slope })
}

/// PyTorch's shape of the state tensor `name` whose shape here is `dims`.
fn torch_dims(name: &str, dims: &[usize]) -> Vec<usize> {
    match *dims {
        [count, inputs, width] if is_dense_weight(name, dims) => vec![count * width, inputs],
        [inputs, outputs] if is_dense_weight(name, dims) => vec![outputs, inputs],
        _ => dims.to_vec(),
    }
}

/// One evaluation pass of `model` on `images` at `slope`, recorded for the
/// PyTorch twin to replay: `images`, `logits`, and for each gated layer `i`
/// `gate{i}.masks` (the masks used) and `gate{i}.probabilities` (σ of the
/// gate's logits), and for a binary dense unit `dense_unit.input` (`m·a`)
/// and `dense_unit.output` (the sampled `h`). Given the masks and `h`, the
/// twin's logits must equal `logits`; its own gates must give the same
/// probabilities (and, for DT gates, the same masks).
pub fn pytorch_reference(
    model: &ConvNet,
    images: &Tensor,
    slope: f64,
    rng: &mut sgbn_estimators::SeededRng,
) -> Result<Vec<(String, Tensor)>> {
    check_exportable(model.spec())?;
    let logits = model.forward(images, crate::ForwardContext::eval(slope), rng)?;
    let mut out = vec![
        ("images".to_string(), images.clone()),
        ("logits".to_string(), logits),
    ];
    for (i, trace) in model.gate_traces().into_iter().enumerate() {
        if let Some(trace) = trace {
            out.push((format!("gate{i}.masks"), trace.masks));
            out.push((format!("gate{i}.probabilities"), trace.probabilities));
        }
    }
    if let (Some(input), Some(output)) = (model.dense_unit_input(), model.last_dense_unit_output())
    {
        out.push(("dense_unit.input".to_string(), input));
        out.push(("dense_unit.output".to_string(), output));
    }
    out.iter_mut()
        .map(|(_, t)| -> Result<()> {
            *t = t
                .to_dtype(DType::F32)?
                .to_device(&Device::Cpu)?
                .contiguous()?;
            Ok(())
        })
        .collect::<Result<Vec<()>>>()?;
    Ok(out)
}

/// Writes `tensors` with `metadata` as a safetensors file at `path`
/// (atomically, header keys sorted).
pub fn save_tensors(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
    path: &Path,
) -> Result<()> {
    let header: HashMap<String, String> = metadata.clone().into_iter().collect();
    let bytes = safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(header))
        .map_err(|e| ModelError::BadCheckpoint {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    crate::checkpoint::write_sorted(path, &bytes)
}
