//! An ONNX classifier as a [`Victim`]: read, checked and probed once, then
//! run by graph evaluation on candle tensors.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use prost::Message;
use sgbn_attacks::Victim;
use sgbn_estimators::{SeededRng, seeded_rng};

use crate::node::Node;
use crate::ops::{Context, RANDOM_OPS, SUPPORTED_OPS, eval};
use crate::proto::{ModelProto, data_type};
use crate::random::Draws;
use crate::value::{Value, from_proto};
use crate::{OnnxError, Result};

/// The largest file read, 2 GiB: ONNX's own limit for a file without
/// external data.
const MAX_FILE_BYTES: u64 = 2 << 30;

/// A classifier exported to ONNX (e.g. by `torch.onnx.export`), with one
/// image input `(batch, C, H, W)` whose batch size is free and one output
/// `(batch, classes)`.
///
/// Its random operators draw from the generator passed to
/// [`Victim::logits`], so the same seed gives the same logits, and
/// [`Victim::fixed_at`] holds those draws fixed. Gradients flow to the image
/// through every supported operator ([`SUPPORTED_OPS`](crate::SUPPORTED_OPS))
/// but the random ones and comparisons, as in PyTorch.
#[derive(Debug)]
pub struct OnnxModel {
    nodes: Vec<Node>,
    constants: HashMap<String, Value>,
    input: String,
    output: String,
    image: [usize; 3],
    classes: usize,
    opset: i64,
    stochastic: bool,
    producer: String,
    device: Device,
}

impl OnnxModel {
    /// Reads an ONNX file. See [`OnnxModel::from_bytes`] for the checks.
    pub fn read(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let path = path.as_ref();
        let io = |source| OnnxError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(OnnxError::NotOnnx(format!(
                "{}: {} bytes, more than ONNX's 2 GiB without external data",
                path.display(),
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes, device).map_err(|e| match e {
            OnnxError::NotOnnx(m) => OnnxError::NotOnnx(format!("{}: {m}", path.display())),
            OnnxError::Graph(m) => OnnxError::Graph(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Decodes an ONNX model and checks, before any use, that every node's
    /// operator is supported (the first one that is not is named), that the
    /// graph has one image input of shape `(batch, C, H, W)` with a free
    /// batch size, and, by one probe pass on a batch of two black images,
    /// that it runs and gives `(2, classes)` logits.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        let model = ModelProto::decode(bytes).map_err(|e| OnnxError::NotOnnx(format!("{e}")))?;
        let graph = model
            .graph
            .as_ref()
            .filter(|g| !g.node.is_empty())
            .ok_or_else(|| OnnxError::NotOnnx("the file holds no graph".into()))?;
        if !graph.sparse_initializer.is_empty() {
            return Err(OnnxError::Graph(
                "sparse initializers are not supported".into(),
            ));
        }
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(1, |o| o.version);
        let nodes = graph
            .node
            .iter()
            .enumerate()
            .map(|(i, n)| Node::from_proto(i, n))
            .collect::<Result<Vec<_>>>()?;
        if let Some(n) = nodes
            .iter()
            .find(|n| !SUPPORTED_OPS.contains(&n.op.as_str()))
        {
            return Err(OnnxError::UnsupportedOp {
                node: n.name.clone(),
                op: n.op.clone(),
            });
        }
        let mut constants = HashMap::new();
        for t in &graph.initializer {
            constants.insert(t.name.clone(), from_proto(t, device)?);
        }
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !constants.contains_key(&i.name))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(OnnxError::Graph(format!(
                "the graph has {} inputs besides its weights ({}); a classifier has one, the images",
                inputs.len(),
                inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let tensor = input
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .ok_or_else(|| OnnxError::Graph(format!("input {:?} is not a tensor", input.name)))?;
        if tensor.elem_type != data_type::FLOAT {
            return Err(OnnxError::Graph(format!(
                "input {:?} has data type {}; float images are expected",
                input.name, tensor.elem_type
            )));
        }
        let dims = tensor
            .shape
            .as_ref()
            .map(|s| s.dim.as_slice())
            .unwrap_or_default();
        let size = |i: usize| dims.get(i).map(|d| d.dim_value).filter(|&v| v > 0);
        let image = match (dims.len(), size(1), size(2), size(3)) {
            (4, Some(c), Some(h), Some(w)) => [c as usize, h as usize, w as usize],
            _ => {
                return Err(OnnxError::Graph(format!(
                    "input {:?} has shape {}; images (batch, C, H, W) with fixed C, H, W are expected",
                    input.name,
                    describe(dims)
                )));
            }
        };
        if dims[0].dim_param.is_empty() {
            return Err(OnnxError::Graph(format!(
                "input {:?} has a fixed batch size of {}; export with a dynamic batch axis \
                 (torch.onnx.export(..., dynamic_axes={{\"{}\": {{0: \"batch\"}}}}))",
                input.name, dims[0].dim_value, input.name
            )));
        }
        let output = graph
            .output
            .first()
            .ok_or_else(|| OnnxError::Graph("the graph has no output".into()))?
            .name
            .clone();
        let stochastic = nodes.iter().any(|n| RANDOM_OPS.contains(&n.op.as_str()));
        let mut model = Self {
            nodes,
            constants,
            input: input.name.clone(),
            output,
            image,
            classes: 0,
            opset,
            stochastic,
            producer: format!("{} {}", model.producer_name, model.producer_version)
                .trim()
                .to_string(),
            device: device.clone(),
        };
        let probe = Tensor::zeros((2, image[0], image[1], image[2]), DType::F32, device)?;
        let logits = model.run(
            &probe,
            &mut Draws::Fresh {
                rng: &mut seeded_rng(0),
                record: None,
            },
        )?;
        match logits.dims() {
            &[2, k] if k >= 2 => model.classes = k,
            d => {
                return Err(OnnxError::Graph(format!(
                    "output {:?} has shape {d:?} on a batch of 2; a classifier gives (batch, classes) logits with ≥ 2 classes",
                    model.output
                )));
            }
        }
        Ok(model)
    }

    /// The image shape `[C, H, W]` the graph takes.
    pub fn image_shape(&self) -> [usize; 3] {
        self.image
    }

    /// Whether the graph has random operators.
    pub fn is_stochastic(&self) -> bool {
        self.stochastic
    }

    /// The default-domain operator set version the file declares.
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// The tool that wrote the file, as the file says (`pytorch 2.5.0`, …).
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// The operators the graph uses, each once, sorted.
    pub fn ops(&self) -> Vec<&str> {
        let mut ops: Vec<&str> = self.nodes.iter().map(|n| n.op.as_str()).collect();
        ops.sort_unstable();
        ops.dedup();
        ops
    }

    fn run(&self, x: &Tensor, draws: &mut Draws<'_>) -> Result<Tensor> {
        match x.dims() {
            [_, c, h, w] if [*c, *h, *w] == self.image => {}
            d => {
                return Err(OnnxError::Graph(format!(
                    "images of shape {d:?}; the graph takes (batch, {}, {}, {})",
                    self.image[0], self.image[1], self.image[2]
                )));
            }
        }
        let mut values: HashMap<&str, Value> = HashMap::new();
        values.insert(self.input.as_str(), Value::Float(x.to_dtype(DType::F32)?));
        let mut ctx = Context {
            device: &self.device,
            opset: self.opset,
            draws,
        };
        for node in &self.nodes {
            let inputs = node
                .inputs
                .iter()
                .map(|name| {
                    if name.is_empty() {
                        return Ok(None);
                    }
                    values
                        .get(name.as_str())
                        .or_else(|| self.constants.get(name))
                        .cloned()
                        .map(Some)
                        .ok_or_else(|| {
                            node.error(format!("input {name:?} is computed by no earlier node"))
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            let outputs = eval(node, &inputs, &mut ctx)?;
            for (name, v) in node.outputs.iter().zip(outputs) {
                if !name.is_empty() {
                    values.insert(name.as_str(), v);
                }
            }
        }
        match values.remove(self.output.as_str()) {
            Some(Value::Float(t)) => Ok(t),
            Some(other) => Err(OnnxError::Graph(format!(
                "output {:?} is a {} value; logits are float",
                self.output,
                other.kind()
            ))),
            None => Err(OnnxError::Graph(format!(
                "output {:?} is computed by no node",
                self.output
            ))),
        }
    }
}

fn describe(dims: &[crate::proto::Dimension]) -> String {
    let d: Vec<String> = dims
        .iter()
        .map(|d| {
            if d.dim_param.is_empty() {
                d.dim_value.to_string()
            } else {
                d.dim_param.clone()
            }
        })
        .collect();
    format!("({})", d.join(", "))
}

impl Victim for OnnxModel {
    fn logits(&self, x: &Tensor, rng: &mut SeededRng) -> sgbn_attacks::Result<Tensor> {
        Ok(self.run(x, &mut Draws::Fresh { rng, record: None })?)
    }

    fn is_stochastic(&self) -> bool {
        self.stochastic
    }

    fn num_classes(&self) -> usize {
        self.classes
    }

    /// For a graph with random operators: one pass on `x` draws them, and
    /// the returned victim replays those draws (the uniform variates, not
    /// the masks computed from them) for every input of the same batch size.
    fn fixed_at(
        &self,
        x: &Tensor,
        rng: &mut SeededRng,
    ) -> sgbn_attacks::Result<Option<Box<dyn Victim + '_>>> {
        if !self.stochastic {
            return Ok(None);
        }
        let mut record = Vec::new();
        self.run(
            &x.detach(),
            &mut Draws::Fresh {
                rng,
                record: Some(&mut record),
            },
        )?;
        Ok(Some(Box::new(FixedDraws {
            model: self,
            draws: record,
        })))
    }
}

/// An [`OnnxModel`] whose random draws were made once.
struct FixedDraws<'a> {
    model: &'a OnnxModel,
    draws: Vec<Tensor>,
}

impl Victim for FixedDraws<'_> {
    fn logits(&self, x: &Tensor, _rng: &mut SeededRng) -> sgbn_attacks::Result<Tensor> {
        Ok(self.model.run(
            x,
            &mut Draws::Replay {
                draws: &self.draws,
                next: 0,
            },
        )?)
    }

    fn num_classes(&self) -> usize {
        self.model.classes
    }
}
