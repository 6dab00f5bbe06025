//! Workloads measured by `cargo xtask bench` (the criterion harness is in
//! `benches/steps.rs`): each function sets up one workload and returns a
//! closure that runs one iteration of it.

#![deny(missing_docs)]

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use sgbn_attacks::{Apgd, ApgdConfig, Attack, Batch, EvalClassifier, GradientAttack, Victim};
use sgbn_defenses::{Adam, AdamConfig};
use sgbn_estimators::SeededRng;
use sgbn_layers::{DenseConfig, MaskedConv2dConfig, SeededVarMap, dense, masked_conv2d};
use sgbn_models::{Classifier, ConvNet, ForwardContext, ModelSpec};

mod allocator;
mod paired;

pub use allocator::{keep_freed_memory, purge_delay};
pub use paired::{MATMUL_RUNS, MIN_ITERATIONS, PairedRound, median, paired_rounds};

/// Boxed error of the workloads.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// One iteration of a workload.
pub type Iteration = Box<dyn FnMut() -> Result<(), Error> + Send>;

/// Seeded uniform values in `[lo, hi)`.
pub fn uniform(shape: &[usize], lo: f32, hi: f32, seed: u64) -> Result<Tensor, Error> {
    let mut r = SeededRng::seed_from_u64(seed);
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| r.random_range(lo..hi)).collect();
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
}

/// MNIST-shaped images in `[0, 1]` and labels.
pub fn images(batch: usize, seed: u64) -> Result<(Tensor, Tensor), Error> {
    let x = uniform(&[batch, 1, 28, 28], 0.0, 1.0, seed)?;
    let mut r = SeededRng::seed_from_u64(seed + 1);
    let y: Vec<u32> = (0..batch).map(|_| r.random_range(0..10)).collect();
    Ok((x, Tensor::from_vec(y, batch, &Device::Cpu)?))
}

/// `a (n×n) @ b (n×n)`, the machine's reference matmul rate.
pub fn matmul(n: usize) -> Result<Iteration, Error> {
    let a = uniform(&[n, n], -1.0, 1.0, 1)?;
    let b = uniform(&[n, n], -1.0, 1.0, 2)?;
    Ok(Box::new(move || {
        let c = a.matmul(&b)?;
        std::hint::black_box(c);
        Ok(())
    }))
}

/// One training step of model `name` on `batch` images: forward (training
/// mode), cross-entropy, backward, Adam.
pub fn train_step(name: &str, batch: usize) -> Result<Iteration, Error> {
    let spec = ModelSpec::named(name)?;
    let model = ConvNet::new(&spec, 0, &Device::Cpu)?;
    let mut adam = Adam::new(model.trainable(), AdamConfig::default())?;
    let (x, y) = images(batch, 3)?;
    let mut rng = SeededRng::seed_from_u64(4);
    Ok(Box::new(move || {
        let logits = model.forward(&x, ForwardContext::train(1.0), &mut rng)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        adam.step(&loss.backward()?)?;
        Ok(())
    }))
}

/// FGSM (ε 0.1) on `batch` images against model `name` in evaluation mode,
/// built as `xtask` builds its victims ([`ConvNet::new_frozen`]: gradients
/// for the input only); `frozen = false` builds it trainable, so that the
/// backward pass also computes every parameter gradient (the cost before
/// frozen victims).
pub fn fgsm_with(name: &str, batch: usize, frozen: bool) -> Result<Iteration, Error> {
    let spec = ModelSpec::named(name)?;
    let model = if frozen {
        ConvNet::new_frozen(&spec, &Device::Cpu)?
    } else {
        ConvNet::new(&spec, 0, &Device::Cpu)?
    };
    let (x, y) = images(batch, 5)?;
    let attack = GradientAttack::fgsm(0.1)?;
    let mut rng = SeededRng::seed_from_u64(6);
    Ok(Box::new(move || {
        let victim = EvalClassifier::new(&model, 1.0);
        let out = attack.perturb(&victim, &Batch::new(&x, &y)?, &mut rng)?;
        std::hint::black_box(out);
        Ok(())
    }))
}

/// [`fgsm_with`] on a frozen victim, as the attacks run.
pub fn fgsm(name: &str, batch: usize) -> Result<Iteration, Error> {
    fgsm_with(name, batch, true)
}

/// APGD-CE (ε 0.3, `steps` steps, one restart, no EOT) on `batch` images
/// against model `name` (frozen, evaluation mode, as `xtask` attacks): one
/// iteration is one whole attack. The images are labelled with the model's
/// own clean predictions, so that every image is attacked: APGD (here and
/// in AutoAttack / torchattacks) attacks only the images classified
/// correctly, and a model of random weights gets a tenth of random labels
/// right. The PyTorch side of `bench --against pytorch` does the same.
pub fn apgd_ce(name: &str, batch: usize, steps: usize) -> Result<Iteration, Error> {
    let spec = ModelSpec::named(name)?;
    let model = ConvNet::new_frozen(&spec, &Device::Cpu)?;
    let (x, _) = images(batch, 5)?;
    let mut rng = SeededRng::seed_from_u64(6);
    let y = EvalClassifier::new(&model, 1.0)
        .logits(&x, &mut rng)?
        .argmax(1)?
        .to_dtype(DType::U32)?;
    let attack = Apgd::new(ApgdConfig {
        steps,
        ..ApgdConfig::new(0.3)
    })?;
    Ok(Box::new(move || {
        let victim = EvalClassifier::new(&model, 1.0);
        let out = attack.perturb(&victim, &Batch::new(&x, &y)?, &mut rng)?;
        std::hint::black_box(out);
        Ok(())
    }))
}

/// The SGBN's second conv with per-sample masks (B = `batch`, 32 → 64
/// filters of 5×5, stride 2, on 12×12): forward and backward to input,
/// weight and masks.
pub fn masked_conv(batch: usize) -> Result<Iteration, Error> {
    let vars = SeededVarMap::new(7);
    let conv = masked_conv2d(
        32,
        64,
        5,
        MaskedConv2dConfig {
            stride: 2,
            ..Default::default()
        },
        vars.var_builder(DType::F32, &Device::Cpu),
    )?;
    let x = Var::from_tensor(&uniform(&[batch, 32, 12, 12], 0.0, 1.0, 8)?)?;
    let m = uniform(&[batch, 64, 32, 5, 5], 0.0, 1.0, 9)?
        .ge(0.5)?
        .to_dtype(DType::F32)?;
    let m = Var::from_tensor(&m)?;
    Ok(Box::new(move || {
        let y = conv.forward_masked(x.as_tensor(), Some(m.as_tensor()))?;
        std::hint::black_box(y.sum_all()?.backward()?);
        Ok(())
    }))
}

/// The SGBN gate's last dense layer, 512 → 51,200, on `batch` rows: forward
/// and backward.
pub fn gate_dense(batch: usize) -> Result<Iteration, Error> {
    let vars = SeededVarMap::new(10);
    let layer = dense(
        512,
        51_200,
        DenseConfig::default(),
        vars.var_builder(DType::F32, &Device::Cpu),
    )?;
    let x = Var::from_tensor(&uniform(&[batch, 512], -1.0, 1.0, 11)?)?;
    Ok(Box::new(move || {
        let y = candle_core::Module::forward(&layer, x.as_tensor())?;
        std::hint::black_box(y.sum_all()?.backward()?);
        Ok(())
    }))
}

/// One Adam step over `n` parameters (the gate layer has 26.2 M).
pub fn adam_step(n: usize) -> Result<Iteration, Error> {
    let w = Var::from_tensor(&uniform(&[n], -1.0, 1.0, 12)?)?;
    let c = uniform(&[n], -1.0, 1.0, 13)?;
    let grads = (w.as_tensor() * &c)?.sum_all()?.backward()?;
    let mut adam = Adam::new(vec![("w".into(), w)], AdamConfig::default())?;
    Ok(Box::new(move || {
        adam.step(&grads)?;
        Ok(())
    }))
}

/// Bytes an Adam step moves per parameter in f32: the weight, its gradient
/// and both moments read, the weight and both moments written (7 × 4).
pub const ADAM_BYTES_PER_PARAMETER: u64 = 28;

/// Bytes the in-place `a += 3·b` moves per element in f32 (`a` and `b`
/// read, `a` written: 3 × 4, as STREAM counts its kernels).
pub const AXPY_BYTES_PER_ELEMENT: u64 = 12;

/// `a[i] += 3·b[i]` over `n` f32 elements, in parts of 64 Ki elements over
/// rayon's pool (the threads Adam's kernel runs on): the memory rate of an
/// elementwise kernel that updates its arrays in place, as Adam does. (An
/// out-of-place kernel such as STREAM's triad also reads each line it
/// writes before writing it, which in-place kernels do not pay for; it is
/// no bound for Adam: docs/performance.md.)
pub fn memory_axpy(n: usize) -> Result<Iteration, Error> {
    use rayon::prelude::*;
    const PART: usize = 1 << 16;
    let mut a = uniform(&[n], -1.0, 1.0, 14)?.to_vec1::<f32>()?;
    let b = uniform(&[n], -1.0, 1.0, 15)?.to_vec1::<f32>()?;
    Ok(Box::new(move || {
        a.par_chunks_mut(PART)
            .zip(b.par_chunks(PART))
            .for_each(|(a, b)| {
                for (a, b) in a.iter_mut().zip(b) {
                    *a += 3.0 * b;
                }
            });
        std::hint::black_box(&a);
        Ok(())
    }))
}
