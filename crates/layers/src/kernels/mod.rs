//! The fast CPU paths behind the thesis layers: candle custom ops with
//! hand-written backward passes, and the products they run on.
//!
//! Every kernel here has a reference twin built from candle tensor ops
//! (chosen automatically off the CPU), and tests compare the two, forward
//! and every gradient (docs/ARCHITECTURE.md, invariant 9). The layers at the
//! crate's top level are what users build models from; this module is how
//! they run fast.
//!
//! - `element`: `Element`, f32 / f64, the types every kernel runs in;
//! - `cpu_features`: the workspace's one detection of AVX2/FMA
//!   ([`avx2_fma_available`]);
//! - `cpu_kernel`: the scaffold of a candle CPU custom op over slices;
//! - `small_gemm`: checked products over the `gemm` crate (the workspace's
//!   `unsafe` code, with `panel_gemm`'s register tiles);
//! - `column_panels`, `panel_gemm`: the `(out / 16, in, 16)` layout of a wide
//!   dense weight and its three products (6 × 16 register tile);
//! - `conv_kernel`, `dense_kernel`, `batch_norm`, `relu`: the custom ops of
//!   the masked conv, wide dense layers, training-mode batch norm and ReLU;
//! - `im2col`: [`ConvGeometry`](crate::ConvGeometry), patches by one
//!   `index_select` (the reference conv);
//! - `worker_thread`: [`on_worker_thread`](crate::on_worker_thread).

pub(crate) mod batch_norm;
pub(crate) mod column_panels;
pub(crate) mod conv_kernel;
pub(crate) mod cpu_features;
pub(crate) mod cpu_kernel;
pub(crate) mod dense_kernel;
pub(crate) mod element;
pub(crate) mod im2col;
pub(crate) mod panel_gemm;
pub(crate) mod relu;
pub(crate) mod small_gemm;
pub(crate) mod worker_thread;

pub use cpu_features::avx2_fma_available;
