//! # sgbn-models
//!
//! Models of the thesis behind one [`Classifier`] trait and a serializable
//! [`ModelSpec`], with safetensors checkpoints that carry their spec.
//!
//! [`ConvNet`] builds every image classifier of the thesis from a
//! [`ModelSpec`] ([`ModelSpec::named`], [`MODEL_NAMES`], [`MODEL_HELP`]):
//! CNN, CNN-BIN, the SGBN family (ST, DT, ±1, ReLU, 1W, 1-layer), SAP,
//! DropConnect, Random Mask, BNN (DT / ST, with PGD training as part of its
//! recipe), adaptive dropout (ST / DT), the gate probes (1st-GM / 2nd-GM),
//! the chapter-3 networks (dropout, L1 / L2; MLP, 1CNN, 2CNN with STE,
//! REINFORCE or DBN units), and, for the chapter-4 models, the
//! "(add params)" and CIFAR-10 sizes. [`ToyNet`] holds the toy regression
//! networks of §4.6.5. Checkpoints: [`save_checkpoint`] / [`Checkpoint`].
//!
//! Shared by training and attacks: [`cross_entropy_per_example`] and the
//! projected sign step of FGSM / BIM / PGD ([`PixelBox`]).
//!
//! SGBN with shuffled masks is an evaluation option
//! ([`ForwardContext::with_shuffled_gate_masks`]).
//!
//! ## Quick start
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use sgbn_models::{Classifier, ConvNet, ForwardContext, ModelSpec};
//!
//! let model = ConvNet::new(&ModelSpec::named("sgbn")?, 0, &Device::Cpu)?;
//! let x = Tensor::zeros((2, 1, 28, 28), DType::F32, &Device::Cpu)?;
//! // Evaluation mode; the gates still sample, from the caller's generator.
//! let logits = model.forward(&x, ForwardContext::eval(1.0), &mut sgbn_estimators::seeded_rng(0))?;
//! assert_eq!(logits.dims(), [2, 10]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod atomic_file;
mod checkpoint;
mod classifier;
mod conv_net;
mod error;
mod evaluate;
mod flops;
mod loss;
mod memory;
mod mode;
mod pixel_box;
mod pytorch;
mod regular_file;
mod spec;
mod toy_net;

pub use atomic_file::{write_atomic, write_atomic_parts};
pub use checkpoint::{
    Checkpoint, EVAL_SLOPE_KEY, FORMAT, FORMAT_KEY, SPEC_KEY, TRAINING_STATE_PREFIXES,
    save_checkpoint, save_checkpoint_with,
};
pub use classifier::{Classifier, Gated};
pub use conv_net::{ConvNet, derangement, is_buffer};
pub use error::{ModelError, Result};
pub use evaluate::{Accuracy, accuracy, count_correct};
pub use flops::FlopCount;
pub use loss::cross_entropy_per_example;
pub use memory::MemoryEstimate;
pub use mode::{Bpda, ForwardContext, Mode};
pub use pixel_box::PixelBox;
pub use pytorch::{
    PYTORCH_FORMAT, PYTORCH_SLOPE_KEY, PytorchImport, check_exportable, load_pytorch,
    pytorch_reference, pytorch_state, save_pytorch, save_tensors,
};
pub use regular_file::{read_regular_file, read_regular_text};
/// The gate parts of [`Bpda`], and the gates' output kinds.
pub use sgbn_layers::{GateBpda, GateOutput};
pub use spec::{
    AdversarialTraining, BatchNormSpec, ConvSpec, DenseUnit, GateProbe, GateSpec, InitSpec,
    MAX_EXAMPLE_ACTIVATION_BYTES, MAX_PARAMETERS, MODEL_HELP, MODEL_NAMES, ModelSpec,
    RandomMaskSpec,
};
pub use toy_net::{TOY_NAMES, ToyGate, ToyNet, ToySpec};
