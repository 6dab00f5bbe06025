//! `cargo xtask data`: load and verify the data sets.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use sgbn_data::{
    Dataset, load_cifar10_binary, load_cifar10_jpeg, load_cifar10_jpeg_archive, load_mnist,
    resolve_mnist_dir,
};

/// Arguments of `cargo xtask data`.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// MNIST directory (IDX files, raw or .gz); default: $SGBN_DATA_DIR, then
    /// the vendored data/mnist.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Also load the LOSSY CIFAR-10 JPEG stand-in: its archive
    /// (`cifar10-jpeg.tar.gz`, SHA-256 checked) or a folder it was extracted to.
    #[arg(long)]
    cifar_jpeg: Option<PathBuf>,
    /// Also load the official CIFAR-10 binary version from here.
    #[arg(long)]
    cifar_binary: Option<PathBuf>,
}

/// MNIST from `data_dir` (or `$SGBN_DATA_DIR`, or the vendored copy) and
/// its first `n` test images; `flag` names the option that asked for `n` in
/// the error when there are fewer.
pub fn mnist_and_test(
    data_dir: Option<&std::path::Path>,
    n: usize,
    flag: &str,
) -> anyhow::Result<(sgbn_data::Mnist, Dataset)> {
    let dir = resolve_mnist_dir(data_dir);
    let mnist =
        load_mnist(&dir).with_context(|| format!("loading MNIST from {}", dir.display()))?;
    anyhow::ensure!(
        n <= mnist.test.len(),
        "{flag} {n} is more than the {} test images in {}",
        mnist.test.len(),
        dir.display()
    );
    let test = mnist.test.first(n)?;
    Ok((mnist, test))
}

fn describe(name: &str, d: &Dataset) -> anyhow::Result<()> {
    let mut counts = vec![0usize; d.num_classes()];
    for l in d.label_vec()? {
        counts[l as usize] += 1;
    }
    println!(
        "  {name:<6} {:>6} images {:?}, classes {counts:?}",
        d.len(),
        d.images().dims()
    );
    Ok(())
}

pub fn run(args: &DataArgs) -> anyhow::Result<()> {
    let dir = resolve_mnist_dir(args.data_dir.as_deref());
    let start = Instant::now();
    let mnist =
        load_mnist(&dir).with_context(|| format!("loading MNIST from {}", dir.display()))?;
    println!(
        "MNIST from {} ({:.2} s)",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    for f in &mnist.files {
        println!("  sha256 {}  {}", f.sha256, f.path.display());
    }
    describe("train", &mnist.train)?;
    describe("test", &mnist.test)?;
    if let Some(root) = &args.cifar_jpeg {
        let start = Instant::now();
        let c = if root.is_file() {
            load_cifar10_jpeg_archive(root)
        } else {
            load_cifar10_jpeg(root)
        }
        .with_context(|| format!("loading CIFAR-10 JPEG from {}", root.display()))?;
        println!(
            "CIFAR-10 JPEG stand-in (LOSSY, not the official data) from {} ({:.2} s)",
            root.display(),
            start.elapsed().as_secs_f64()
        );
        describe("train", &c.train)?;
        describe("test", &c.test)?;
    }
    if let Some(root) = &args.cifar_binary {
        let c = load_cifar10_binary(root)
            .with_context(|| format!("loading CIFAR-10 from {}", root.display()))?;
        println!("CIFAR-10 (binary version) from {}", root.display());
        describe("train", &c.train)?;
        describe("test", &c.test)?;
    }
    Ok(())
}
