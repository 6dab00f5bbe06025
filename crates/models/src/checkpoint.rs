//! Checkpoints: safetensors holding every state tensor, with the
//! [`ModelSpec`] (JSON) and caller metadata in the header.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use candle_core::{Device, Tensor};

use crate::{Classifier, ConvNet, ModelError, ModelSpec, Result};

/// Header key of the format tag.
pub const FORMAT_KEY: &str = "sgbn.format";
/// The format tag of this version.
pub const FORMAT: &str = "sgbn-checkpoint-1";
/// Header key of the model spec (JSON).
pub const SPEC_KEY: &str = "sgbn.spec";
/// Metadata key of the slope of the binary units at evaluation, for a
/// checkpoint without a training log (one imported from PyTorch).
pub const EVAL_SLOPE_KEY: &str = "eval.slope";

/// A checkpoint read from disk.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    /// The spec of the saved model.
    pub spec: ModelSpec,
    /// Caller metadata saved with it (epoch, metrics, …).
    pub metadata: BTreeMap<String, String>,
    tensors: HashMap<String, Tensor>,
}

/// Saves `model`'s whole state and `metadata` to `path` atomically.
/// Metadata keys starting with `sgbn.` are reserved.
pub fn save_checkpoint(
    model: &dyn Classifier,
    path: &Path,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    save_checkpoint_with(model, path, metadata, &[])
}

/// [`save_checkpoint`] with extra tensors (e.g. optimizer state) whose names
/// must not clash with the model's.
pub fn save_checkpoint_with(
    model: &dyn Classifier,
    path: &Path,
    metadata: &BTreeMap<String, String>,
    extra: &[(String, Tensor)],
) -> Result<()> {
    let bad = |reason: String| ModelError::BadCheckpoint {
        path: path.to_path_buf(),
        reason,
    };
    let mut header: HashMap<String, String> = HashMap::new();
    for (k, v) in metadata {
        if k.starts_with("sgbn.") {
            return Err(bad(format!("metadata key {k:?} is reserved")));
        }
        header.insert(k.clone(), v.clone());
    }
    header.insert(FORMAT_KEY.into(), FORMAT.into());
    let spec = serde_json::to_string(model.spec()).map_err(|e| bad(e.to_string()))?;
    header.insert(SPEC_KEY.into(), spec);
    let mut state: Vec<(String, Tensor)> = model
        .state()
        .into_iter()
        .map(|(name, var)| (name, var.as_tensor().detach()))
        .collect();
    for (name, t) in extra {
        if state.iter().any(|(n, _)| n == name) {
            return Err(bad(format!(
                "extra tensor {name:?} clashes with a model tensor"
            )));
        }
        state.push((name.clone(), t.detach()));
    }
    let bytes = safetensors::serialize(state.iter().map(|(n, t)| (n.as_str(), t)), Some(header))
        .map_err(|e| bad(e.to_string()))?;
    write_sorted(path, &bytes)
}

/// Writes the safetensors file `bytes` to `path` atomically, its header's
/// keys sorted ([`sorted_header`]).
pub(crate) fn write_sorted(path: &Path, bytes: &[u8]) -> Result<()> {
    let (header, n) = sorted_header(bytes).map_err(|reason| ModelError::BadCheckpoint {
        path: path.to_path_buf(),
        reason,
    })?;
    // Header and tensor bytes written one after the other: a large model's
    // file is never copied whole in memory a second time.
    crate::atomic_file::write_atomic_parts(path, &[&header, &bytes[8 + n..]])
}

/// The header (length and JSON) of the safetensors file `bytes` with its
/// keys in sorted order, and the length of the original JSON (the tensor
/// bytes start at `8 + n`): `safetensors::serialize` writes the metadata from a `HashMap`,
/// whose order changes from process to process, so the same state would
/// give different bytes. The tensors' bytes and offsets are unchanged; the
/// header is padded with spaces to a multiple of 8 bytes, as safetensors
/// itself pads it.
fn sorted_header(bytes: &[u8]) -> std::result::Result<(Vec<u8>, usize), String> {
    fn sorted(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let tree: BTreeMap<String, serde_json::Value> =
                    map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
                serde_json::Value::Object(tree.into_iter().collect())
            }
            other => other,
        }
    }
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or("serialized checkpoint shorter than its header length")?;
    let n = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|e| e.to_string())?;
    let header = bytes
        .get(8..8 + n)
        .ok_or("serialized checkpoint shorter than its header")?;
    let value: serde_json::Value = serde_json::from_slice(header).map_err(|e| e.to_string())?;
    // A `BTreeMap` orders the keys whatever map type serde_json was built
    // with (`preserve_order` keeps insertion order).
    let tree: BTreeMap<String, serde_json::Value> = match sorted(value) {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => return Err("safetensors header is not a JSON object".into()),
    };
    let mut text = serde_json::to_vec(&tree).map_err(|e| e.to_string())?;
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + text.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    Ok((out, n))
}

/// The top-level fields in which two specs differ, `field: a → b`.
fn spec_difference(a: &ModelSpec, b: &ModelSpec) -> String {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return "specs not comparable".into();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&serde_json::Value>| {
        let text = v.map_or("absent".into(), |v| v.to_string());
        // Whole layer lists are long: the first 120 characters say enough.
        match text.char_indices().nth(120) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text,
        }
    };
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {} → {}", show(a.get(k)), show(b.get(k))))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first tensor of a safetensors file holding a NaN or an infinity:
/// its name and the flat index of the value.
pub(crate) fn first_non_finite(
    bytes: &[u8],
) -> std::result::Result<Option<(String, usize)>, String> {
    use safetensors::Dtype;
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    for name in names {
        let view = st.tensor(&name).map_err(|e| e.to_string())?;
        let data = view.data();
        let bad = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite()),
            Dtype::F64 => data.chunks_exact(8).position(|c| {
                !f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).is_finite()
            }),
            // Half precision: exponent bits all ones is NaN or infinity.
            Dtype::F16 => data
                .chunks_exact(2)
                .position(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7c00 == 0x7c00),
            Dtype::BF16 => data
                .chunks_exact(2)
                .position(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7f80 == 0x7f80),
            _ => None,
        };
        if let Some(i) = bad {
            return Ok(Some((name, i)));
        }
    }
    Ok(None)
}

/// Refuses a spec that builds far more values than the file holds: the
/// file carries every state tensor of its model, so a spec edited to, say,
/// 10⁹ conv filters is refused here, before [`ConvNet::new`] would try to
/// allocate it (docs/robustness.md). [`ModelSpec::memory_estimate`] counts
/// the state within a few per cent ([`STATE_ESTIMATE_SLACK`]); models below
/// [`SMALL_MODEL_VALUES`] are left to the tensor checks of loading.
fn check_spec_fits_file(
    spec: &ModelSpec,
    header: &safetensors::tensor::Metadata,
) -> std::result::Result<(), String> {
    let held: u64 = header
        .tensors()
        .values()
        .map(|info| {
            info.shape
                .iter()
                .fold(1u64, |n, &d| n.saturating_mul(d as u64))
        })
        .fold(0u64, u64::saturating_add);
    let needed = spec.memory_estimate(1).parameters;
    // Below the floor the model is cheap to build, and loading it names the
    // first tensor that is missing or of the wrong shape: a better message.
    if needed > SMALL_MODEL_VALUES && needed as f64 > STATE_ESTIMATE_SLACK * held as f64 {
        return Err(format!(
            "its model spec ({}) builds about {needed} values but the file holds only {held}: \
             the spec or the file is damaged",
            spec.name
        ));
    }
    Ok(())
}

/// How far [`ModelSpec::memory_estimate`]'s parameter count may exceed the
/// values a faithful file holds (it is within 3 % for every named model,
/// tested in crates/models/tests/memory_and_files.rs).
const STATE_ESTIMATE_SLACK: f64 = 1.5;

/// Models of at most this many values (4 MiB of `f32`) are built before
/// their tensors are checked, which then names the first that does not fit.
const SMALL_MODEL_VALUES: u64 = 1 << 20;

/// Names a checkpoint may hold besides its model's state: the training
/// state that `sgbn-defenses` saves to resume a run (Adam's moments,
/// `adam.m.*` / `adam.v.*`, and the REINFORCE baseline, `reinforce.*`).
/// Any other tensor is refused on load, naming it.
pub const TRAINING_STATE_PREFIXES: [&str; 2] = ["adam.", "reinforce."];

/// A safetensors file written by sgbn, checked: its format tag, its spec,
/// every value finite.
pub(crate) struct TaggedFile {
    /// The model spec of the header.
    pub spec: ModelSpec,
    /// The other header entries (format tag and spec removed).
    pub metadata: BTreeMap<String, String>,
    /// Every tensor.
    pub tensors: HashMap<String, Tensor>,
}

/// Parses the contents `bytes` of a file at `path` that must carry the
/// format tag `format` (`what` names such a file in the error without one),
/// a [`ModelSpec`] and only finite values.
pub(crate) fn read_tagged(
    path: &Path,
    bytes: &[u8],
    format: &str,
    what: &str,
    device: &Device,
) -> Result<TaggedFile> {
    let bad = |reason: String| ModelError::BadCheckpoint {
        path: path.to_path_buf(),
        reason,
    };
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let mut metadata: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    match metadata.remove(FORMAT_KEY) {
        Some(f) if f == format => {}
        Some(f) => return Err(bad(format!("format {f:?}, expected {format:?}"))),
        None => return Err(bad(format!("no sgbn format tag: not {what}"))),
    }
    let spec_json = metadata
        .remove(SPEC_KEY)
        .ok_or_else(|| bad("no model spec in the header".into()))?;
    let spec: ModelSpec =
        serde_json::from_str(&spec_json).map_err(|e| bad(format!("model spec: {e}")))?;
    check_spec_fits_file(&spec, &header).map_err(bad)?;
    // A model with NaN or infinite parameters would classify as a
    // constant and report a meaningless accuracy: refuse it here.
    if let Some((name, index)) =
        first_non_finite(bytes).map_err(|e| bad(format!("tensors: {e}")))?
    {
        return Err(bad(format!(
            "tensor {name} holds a non-finite value (NaN or infinity) at flat index {index}: \
             the training that wrote it diverged, or the file is damaged"
        )));
    }
    let tensors = candle_core::safetensors::load_buffer(bytes, device)
        .map_err(|e| bad(format!("tensors: {e}")))?;
    Ok(TaggedFile {
        spec,
        metadata,
        tensors,
    })
}

/// Refuses the file's tensor `name` when its dtype is not the model
/// variable's: a tensor relabelled I32 or U32 with the same byte size would
/// otherwise load as garbage, and an F64 one be converted silently.
pub(crate) fn check_dtype(path: &Path, name: &str, t: &Tensor, var: &Tensor) -> Result<()> {
    if t.dtype() != var.dtype() {
        return Err(ModelError::WrongDtype {
            path: path.to_path_buf(),
            name: name.to_string(),
            expected: format!("{:?}", var.dtype()),
            found: format!("{:?}", t.dtype()),
        });
    }
    Ok(())
}

/// Refuses a tensor of the file that is neither part of the model's
/// `state` nor one that `allowed` accepts: a file holding a tensor the
/// model does not build belongs to another model, or was edited.
pub(crate) fn check_no_stray_tensors<'a>(
    path: &Path,
    names: impl Iterator<Item = &'a String>,
    state: &[(String, candle_core::Var)],
    allowed: impl Fn(&str) -> bool,
) -> Result<()> {
    let known: std::collections::HashSet<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
    let mut stray: Vec<&String> = names
        .filter(|n| !known.contains(n.as_str()) && !allowed(n))
        .collect();
    stray.sort();
    match stray.first() {
        None => Ok(()),
        Some(first) => Err(ModelError::BadCheckpoint {
            path: path.to_path_buf(),
            reason: format!(
                "it holds tensor {first}, which the model of its spec does not have{}",
                if stray.len() > 1 {
                    format!(" (and {} more)", stray.len() - 1)
                } else {
                    String::new()
                }
            ),
        }),
    }
}

/// `t`, saved as the state tensor `name`, in the shape `dims` of the
/// model's variable: itself, a dense weight converted from the other layout
/// (`(in, out)` or column panels, see [`sgbn_layers::convert_dense_weight`]),
/// or `None` when the shapes disagree otherwise.
pub(crate) fn in_layout(name: &str, t: &Tensor, dims: &[usize]) -> Result<Option<Tensor>> {
    if t.dims() == dims {
        return Ok(Some(t.clone()));
    }
    if !name.ends_with(".weight") {
        return Ok(None);
    }
    Ok(sgbn_layers::convert_dense_weight(t, dims)?)
}

impl Checkpoint {
    /// Reads and checks a checkpoint file.
    pub fn read(path: &Path, device: &Device) -> Result<Self> {
        let bytes = crate::read_regular_file(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes, device)
    }

    /// Parses and checks the contents `bytes` of a checkpoint file; `path`
    /// names it in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8], device: &Device) -> Result<Self> {
        let file = read_tagged(path, bytes, FORMAT, "an sgbn checkpoint", device)?;
        Ok(Self {
            path: path.to_path_buf(),
            spec: file.spec,
            metadata: file.metadata,
            tensors: file.tensors,
        })
    }

    /// A tensor of the file by name (model state or extra).
    pub fn tensor(&self, name: &str) -> Option<Tensor> {
        self.tensors.get(name).cloned()
    }

    /// Where the checkpoint was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies the saved state into `model`, which must have been built from
    /// the same spec; every tensor must be present with the right shape.
    pub fn load_into(&self, model: &dyn Classifier) -> Result<()> {
        if model.spec() != &self.spec {
            return Err(ModelError::SpecMismatch {
                path: self.path.clone(),
                expected: model.spec().name.clone(),
                found: self.spec.name.clone(),
                difference: spec_difference(&self.spec, model.spec()),
            });
        }
        // Check everything before changing anything. A dense weight saved
        // in the other layout (`(in, out)` or column panels, see
        // `sgbn_layers::convert_dense_weight`) is converted.
        let state = model.state();
        let mut values = Vec::with_capacity(state.len());
        for (name, var) in &state {
            let t = self
                .tensors
                .get(name)
                .ok_or_else(|| ModelError::MissingTensor {
                    path: self.path.clone(),
                    name: name.clone(),
                })?;
            check_dtype(&self.path, name, t, var.as_tensor())?;
            let dims = var.as_tensor().dims();
            let t = in_layout(name, t, dims)?.ok_or_else(|| ModelError::WrongShape {
                path: self.path.clone(),
                name: name.clone(),
                expected: dims.to_vec(),
                found: t.dims().to_vec(),
            })?;
            values.push(t);
        }
        check_no_stray_tensors(&self.path, self.tensors.keys(), &state, |name| {
            TRAINING_STATE_PREFIXES.iter().any(|p| name.starts_with(p))
        })?;
        for ((_, var), t) in state.iter().zip(values) {
            var.set(&t)?;
        }
        Ok(())
    }

    /// Builds the saved model and loads its state.
    pub fn build(&self, device: &Device) -> Result<ConvNet> {
        let model = ConvNet::new(&self.spec, 0, device)?;
        self.load_into(&model)?;
        Ok(model)
    }

    /// The model of this checkpoint for evaluation and attacks
    /// ([`ConvNet::new_frozen`]): gradients reach the input, never the
    /// parameters.
    pub fn build_frozen(&self, device: &Device) -> Result<ConvNet> {
        let model = ConvNet::new_frozen(&self.spec, device)?;
        self.load_into(&model)?;
        Ok(model)
    }
}
