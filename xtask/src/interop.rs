//! `cargo xtask export` and `cargo xtask import`: checkpoints to and from
//! PyTorch's names and layouts (`python/sgbn_torch`, docs/interop.md).

use std::{collections::BTreeMap, path::PathBuf};

use anyhow::bail;
use sgbn_defenses::trained_slope;
use sgbn_estimators::seeded_rng;
use sgbn_models::{
    Checkpoint, Classifier, EVAL_SLOPE_KEY, load_pytorch, pytorch_reference, save_checkpoint,
    save_pytorch, save_tensors,
};

/// The formats the commands know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// safetensors with PyTorch's names and layouts, for `python/sgbn_torch`.
    Pytorch,
}

/// Arguments of `cargo xtask export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Checkpoint written by `cargo xtask train` (or `reproduce`'s cache).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "pytorch")]
    format: Format,
    /// Output folder: `model.safetensors`, and `reference.safetensors` with
    /// `--reference-images`.
    #[arg(long)]
    out: PathBuf,
    /// Also record one evaluation pass on the first this-many MNIST test
    /// images (their masks, dense-unit samples and logits) for
    /// `python -m sgbn_torch.check` (0: none).
    #[arg(long, default_value_t = 100)]
    reference_images: usize,
    /// Seed of the reference pass's generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// MNIST directory (default: $SGBN_DATA_DIR, then the vendored copy).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Arguments of `cargo xtask import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A file written by `export` or by `sgbn_torch.save` in Python.
    #[arg(long)]
    file: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "pytorch")]
    format: Format,
    /// Output folder: `checkpoint.safetensors`, usable by `attack`.
    #[arg(long)]
    out: PathBuf,
}

pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let Format::Pytorch = args.format;
    let device = candle_core::Device::Cpu;
    let ck = Checkpoint::read(&args.checkpoint, &device)?;
    let model = ck.build_frozen(&device)?;
    let slope = trained_slope(&ck)?.unwrap_or(1.0);
    sgbn_models::check_exportable(model.spec())?;
    let test = if args.reference_images > 0 {
        if model.spec().input != [1, 28, 28] {
            bail!(
                "--reference-images uses MNIST test images, but {} takes {:?}; pass \
                 --reference-images 0",
                model.spec().name,
                model.spec().input
            );
        }
        let (_, test) = crate::data::mnist_and_test(
            args.data_dir.as_deref(),
            args.reference_images,
            "--reference-images",
        )?;
        Some(test)
    } else {
        None
    };
    let created = crate::output::prepare_out_dir(&args.out)?;
    let result = (|| -> anyhow::Result<()> {
        let path = args.out.join("model.safetensors");
        save_pytorch(&model, slope, &path)?;
        println!("{} (slope {slope}) → {}", model.spec().name, path.display());
        if let Some(test) = test {
            let reference =
                pytorch_reference(&model, test.images(), slope, &mut seeded_rng(args.seed))?;
            let meta = BTreeMap::from([
                (
                    "sgbn.reference".to_string(),
                    "sgbn-pytorch-reference-1".to_string(),
                ),
                ("seed".to_string(), args.seed.to_string()),
                ("slope".to_string(), format!("{slope:?}")),
            ]);
            let path = args.out.join("reference.safetensors");
            save_tensors(&reference, &meta, &path)?;
            println!(
                "reference pass on {} test images → {}",
                test.len(),
                path.display()
            );
        }
        Ok(())
    })();
    if result.is_err() {
        crate::output::remove_created(&created);
    }
    result
}

pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let Format::Pytorch = args.format;
    let imported = load_pytorch(&args.file, &candle_core::Device::Cpu)?;
    let created = crate::output::prepare_out_dir(&args.out)?;
    let path = args.out.join("checkpoint.safetensors");
    let meta = BTreeMap::from([
        (EVAL_SLOPE_KEY.to_string(), format!("{:?}", imported.slope)),
        ("imported.from".to_string(), args.file.display().to_string()),
    ]);
    if let Err(e) = save_checkpoint(&imported.model, &path, &meta) {
        crate::output::remove_created(&created);
        return Err(e.into());
    }
    println!(
        "{} (slope {}) → {}",
        imported.model.spec().name,
        imported.slope,
        path.display()
    );
    Ok(())
}
