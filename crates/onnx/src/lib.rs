//! # sgbn-onnx
//!
//! Runs a classifier exported to ONNX (by `torch.onnx.export`, say) on
//! candle, with gradients from the logits back to the image, so that every
//! attack of `sgbn-attacks` and the gradient-masking audit of `sgbn-eval`
//! (`cargo xtask audit --onnx`) take it as a [`Victim`](sgbn_attacks::Victim).
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use sgbn_attacks::{Attack, Batch, GradientAttack, Victim};
//! use sgbn_onnx::OnnxModel;
//!
//! // A small CNN PyTorch exported (python/make_onnx_fixtures.py).
//! let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cnn.onnx");
//! let model = OnnxModel::read(file, &Device::Cpu)?;
//! assert_eq!((model.image_shape(), model.num_classes()), ([1, 12, 12], 10));
//!
//! let x = Tensor::full(0.5f32, (4, 1, 12, 12), &Device::Cpu)?;
//! let y = Tensor::new(&[0u32, 1, 2, 3], &Device::Cpu)?;
//! let mut rng = sgbn_estimators::seeded_rng(0);
//! let out = GradientAttack::fgsm(0.1)?.perturb(&model, &Batch::new(&x, &y)?, &mut rng)?;
//! let moved = (&out.adversarial - &x)?.abs()?.max_all()?.to_scalar::<f32>()?;
//! assert!(moved <= 0.1 + 1e-6 && out.predictions.len() == 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Why not candle-onnx
//!
//! candle-onnx generates its protobuf code with `prost-build`, which needs
//! `protoc` installed to build, and draws its random operators from candle's
//! CPU generator, which cannot be seeded: an audit of a stochastic model
//! would not repeat. This crate declares the part of onnx.proto a classifier
//! uses with prost's derive (no `protoc`) and draws every random operator
//! from the caller's [`SeededRng`](sgbn_estimators::SeededRng).
//!
//! ## What it runs
//!
//! The operators in [`SUPPORTED_OPS`] (default domain, opsets 7–21), on
//! float32 images `(batch, C, H, W)` with a free batch size. A file with any
//! other operator is refused on reading, naming the node and the operator;
//! an attribute an operator does not implement (`ceil_mode` 1, `auto_pad`
//! SAME, unequal strides of a convolution, training-mode batch norm or
//! dropout, …) is refused by the probe pass [`OnnxModel::from_bytes`] makes,
//! naming the node. Random operators (`RandomUniformLike`,
//! `RandomNormalLike`, `RandomUniform`, `RandomNormal`, `Bernoulli`) make
//! the model stochastic: they draw from the caller's generator (the file's
//! `seed` attributes are ignored) and carry no gradient, and
//! [`Victim::fixed_at`](sgbn_attacks::Victim::fixed_at) holds their draws
//! fixed. docs/onnx.md lists what was checked against PyTorch.

#![deny(missing_docs)]

mod error;
mod model;
mod node;
mod ops;
pub mod proto;
mod random;
mod value;

pub use error::{OnnxError, Result};
pub use model::OnnxModel;
pub use ops::SUPPORTED_OPS;
