//! A graph node as the evaluator reads it: its operator, value names and
//! attributes by name.

use std::collections::HashMap;

use crate::proto::{ATTRIBUTE_GRAPH, AttributeProto, NodeProto};
use crate::{OnnxError, Result};

/// One operator call of the graph.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// The node's name, or `#index` where the file gives none.
    pub name: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    attrs: HashMap<String, AttributeProto>,
}

impl Node {
    pub fn from_proto(index: usize, p: &NodeProto) -> Result<Self> {
        let name = if p.name.is_empty() {
            format!("#{index}")
        } else {
            p.name.clone()
        };
        if !(p.domain.is_empty() || p.domain == "ai.onnx") {
            return Err(OnnxError::UnsupportedOp {
                node: name,
                op: format!("{}::{}", p.domain, p.op_type),
            });
        }
        let node = Self {
            name,
            op: p.op_type.clone(),
            inputs: p.input.clone(),
            outputs: p.output.clone(),
            attrs: p
                .attribute
                .iter()
                .map(|a| (a.name.clone(), a.clone()))
                .collect(),
        };
        for a in p.attribute.iter() {
            if a.r#type == ATTRIBUTE_GRAPH {
                return Err(node.error(format!(
                    "attribute {:?} is a sub-graph, which is not supported",
                    a.name
                )));
            }
            if !a.ref_attr_name.is_empty() {
                return Err(node.error(format!(
                    "attribute {:?} refers to a function attribute, which is not supported",
                    a.name
                )));
            }
        }
        Ok(node)
    }

    /// An error about this node.
    pub fn error(&self, message: impl Into<String>) -> OnnxError {
        OnnxError::Node {
            node: self.name.clone(),
            op: self.op.clone(),
            message: message.into(),
        }
    }

    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.attrs.get(name)
    }

    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map_or(default, |a| a.i)
    }

    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).map_or(default, |a| a.f)
    }

    pub fn ints(&self, name: &str) -> Option<&[i64]> {
        self.attr(name).map(|a| a.ints.as_slice())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.attr(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}
