//! Train an SGBN (DT) with the thesis's recipe for one epoch on 3,000 MNIST
//! images, measure its clean accuracy, save a checkpoint that resumes
//! exactly, and export it for PyTorch (`python/sgbn_torch`, docs/interop.md).
//!
//! `cargo run --release -p sgbn-defenses --example train_and_export`

use std::collections::BTreeMap;

use candle_core::Device;
use sgbn_defenses::{Quiet, TrainConfig, train};
use sgbn_estimators::seeded_rng;
use sgbn_models::{ConvNet, ForwardContext, ModelSpec, accuracy, save_checkpoint, save_pytorch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `$SGBN_DATA_DIR`, else the copy vendored in the repository (a package
    // does not ship it).
    let dir = sgbn_data::available_mnist_dir()
        .ok_or("no MNIST: set SGBN_DATA_DIR to a folder holding the four MNIST files")?;
    let mnist = sgbn_data::load_mnist(&dir)?;
    let spec = ModelSpec::named("sgbn-dt")?;
    let model = ConvNet::new(&spec, 0, &Device::Cpu)?;
    // The model's own recipe (its slope schedule, Adam 1e-3, batch 50).
    let config = TrainConfig {
        epochs: 1,
        early_stopping: None,
        ..TrainConfig::default()
    }
    .with_recipe_of(&spec);
    let report = train(
        &model,
        &mnist.train.first(3000)?,
        None,
        &config,
        None,
        &mut Quiet,
    )?;
    let test = mnist.test.first(500)?;
    let clean = accuracy(
        &model,
        test.images(),
        test.labels(),
        100,
        ForwardContext::eval(report.final_slope),
        &mut seeded_rng(0),
    )?;
    println!(
        "{}: loss {:.3} after {} epoch, clean accuracy {:.1} % on 500 test images",
        spec.name,
        report.epochs[0].train_loss,
        report.epochs.len(),
        100.0 * clean.fraction()
    );
    let dir = tempfile::tempdir()?;
    save_checkpoint(
        &model,
        &dir.path().join("checkpoint.safetensors"),
        &BTreeMap::new(),
    )?;
    save_pytorch(
        &model,
        report.final_slope,
        &dir.path().join("model.safetensors"),
    )?;
    println!(
        "saved the checkpoint and a PyTorch export under {}",
        dir.path().display()
    );
    Ok(())
}
