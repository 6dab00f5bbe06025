//! # sgbn-models
//!
//! Models of the thesis behind one [`Classifier`] trait and a serializable
//! [`ModelSpec`], with safetensors checkpoints that carry their spec.
//!
//! Built so far: [`ConvNet`] for CNN, CNN-BIN, SGBN (ST), SGBN (DT),
//! SGBN-ReLU, 1W-SGBN, SGBN ±1, 1-layer-SGBN, SAP, DropConnect and Random
//! Mask at MNIST sizes (§4.3.1, Tables 4.1–4.2;
//! [`ModelSpec::named`]); [`save_checkpoint`] / [`Checkpoint`].
//!
//! SGBN with shuffled masks is an evaluation option
//! ([`ForwardContext::with_shuffled_gate_masks`]).
//!
//! Planned (issue "Layers and models"): BNN,
//! adaptive dropout, gate probes,
//! the chapter-3 networks, the toy models of §4.6.5 and CIFAR-10 sizes.

#![deny(missing_docs)]

mod atomic_file;
mod checkpoint;
mod classifier;
mod conv_net;
mod error;
mod evaluate;
mod flops;
mod mode;
mod spec;
mod toy_net;

pub use atomic_file::write_atomic;
pub use checkpoint::{
    Checkpoint, FORMAT, FORMAT_KEY, SPEC_KEY, save_checkpoint, save_checkpoint_with,
};
pub use classifier::Classifier;
pub use conv_net::{ConvNet, derangement, is_buffer};
pub use error::{ModelError, Result};
pub use evaluate::{Accuracy, accuracy, count_correct};
pub use flops::FlopCount;
pub use mode::{ForwardContext, Mode};
pub use spec::{
    AdversarialTraining, ConvSpec, DenseUnit, GateProbe, GateSpec, MODEL_HELP, MODEL_NAMES,
    ModelSpec, RandomMaskSpec,
};
pub use toy_net::{TOY_NAMES, ToyGate, ToyNet, ToySpec};
