//! `cargo xtask audit`: the gradient-masking audit of `sgbn_eval::audit`
//! on a checkpoint, a PyTorch-layout file or an ONNX file (`sgbn-onnx`,
//! feature `onnx`), resumable from its cache, with `audit.json`, `AUDIT.md`
//! and the accuracy-against-ε figure.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sgbn_data::{Dataset, load_cifar10_for, load_mnist, resolve_mnist_dir, sha256_hex};
use sgbn_defenses::trained_slope;
use sgbn_eval::audit::{AuditLine, AuditProgress, MarkdownOptions};
use sgbn_eval::{
    AuditBudget, AuditCache, AuditData, AuditHooks, AuditIdentity, AuditTarget, EvalError,
    audit_with, key_hash,
};
use sgbn_models::{Checkpoint, Classifier, ConvNet, load_pytorch, read_regular_file, write_atomic};

/// Which data the model is audited on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditDataSet {
    /// The vendored MNIST (`--data-dir`).
    Mnist,
    /// CIFAR-10 (the binary release where found, else the vendored lossy JPEG stand-in).
    Cifar10,
}

impl AuditDataSet {
    /// The images' `[C, H, W]`, known before anything is loaded.
    fn image_shape(self) -> [usize; 3] {
        match self {
            Self::Mnist => [1, 28, 28],
            Self::Cifar10 => [3, 32, 32],
        }
    }
}

/// Arguments of `cargo xtask audit`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("model").required(true).multiple(false))]
pub struct AuditArgs {
    /// A checkpoint of any sgbn model (`cargo xtask train`, `reproduce`'s cache).
    #[arg(long, group = "model")]
    checkpoint: Option<PathBuf>,
    /// A PyTorch-layout file (`cargo xtask export`, `sgbn_torch.save`; docs/interop.md).
    #[arg(long, group = "model")]
    pytorch: Option<PathBuf>,
    /// An ONNX classifier (`torch.onnx.export` with a dynamic batch axis;
    /// the operators supported: docs/onnx.md).
    #[arg(long, group = "model")]
    onnx: Option<PathBuf>,
    /// The data set.
    #[arg(long, value_enum, default_value = "mnist")]
    data: AuditDataSet,
    /// Folder of the data (default: the vendored data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// ℓ∞ budget ε of the checklist's attacks.
    #[arg(long, default_value_t = 0.3)]
    eps: f64,
    /// Attack the first N test images.
    #[arg(long, default_value_t = 500)]
    test_size: usize,
    /// Passes over the adversarial images of a random model.
    #[arg(long, default_value_t = 10)]
    passes: usize,
    /// Draws of a random model's randomness per gradient (EOT).
    #[arg(long, default_value_t = 10)]
    eot: usize,
    /// PGD iterations.
    #[arg(long, default_value_t = sgbn_eval::DEFAULT_PGD_STEPS)]
    pgd_steps: usize,
    /// APGD iterations.
    #[arg(long, default_value_t = sgbn_eval::DEFAULT_APGD_STEPS)]
    apgd_steps: usize,
    /// Square attack queries per image.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Further ε of the sweep, comma-separated, each in (0, 1] (1: the unbounded check).
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.2,0.5,1")]
    sweep: Vec<f64>,
    /// Epochs of the surrogate CNN of the transfer line (0: no transfer line).
    #[arg(long, default_value_t = 2)]
    surrogate_epochs: usize,
    /// Training images of the surrogate (default: all).
    #[arg(long)]
    surrogate_train_size: Option<usize>,
    /// Images per attack batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Seed of every generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder (default `results/audit/<model>`); its `cache/` lets a
    /// stopped audit resume.
    #[arg(long)]
    out: Option<PathBuf>,
}

impl AuditArgs {
    fn budget(&self) -> AuditBudget {
        AuditBudget {
            eps: self.eps,
            images: self.test_size,
            passes: self.passes,
            eot: self.eot,
            pgd_steps: self.pgd_steps,
            apgd_steps: self.apgd_steps,
            square_queries: self.queries,
            sweep: self.sweep.clone(),
            surrogate_epochs: self.surrogate_epochs,
            surrogate_train_size: self.surrogate_train_size,
            batch_size: self.batch_size,
            seed: self.seed,
        }
    }

    /// The model's file, as given.
    fn file(&self) -> (&'static str, &Path) {
        match (&self.checkpoint, &self.pytorch, &self.onnx) {
            (Some(c), _, _) => ("--checkpoint", c),
            (None, Some(p), _) => ("--pytorch", p),
            (None, None, Some(o)) => ("--onnx", o),
            (None, None, None) => unreachable!("clap requires one of them"),
        }
    }
}

/// One file per cached line under `<out>/cache/audit/`, written atomically.
struct FileCache {
    dir: PathBuf,
}

impl FileCache {
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }
}

impl AuditCache for FileCache {
    fn get(&mut self, key: &str) -> sgbn_eval::Result<Option<String>> {
        let path = self.path(key);
        match std::fs::symlink_metadata(&path) {
            Err(_) => Ok(None),
            Ok(m) if !m.file_type().is_file() => Err(EvalError::InvalidConfig(format!(
                "{} is not a regular file: the audit cache only writes files there",
                path.display()
            ))),
            Ok(_) => {
                let bytes = read_regular_file(&path).map_err(|e| {
                    EvalError::InvalidConfig(format!("reading {}: {e}", path.display()))
                })?;
                String::from_utf8(bytes).map(Some).map_err(|_| {
                    EvalError::InvalidConfig(format!(
                        "{} is not UTF-8 text; delete it to recompute the line",
                        path.display()
                    ))
                })
            }
        }
    }

    fn put(&mut self, key: &str, json: &str) -> sgbn_eval::Result<()> {
        write_atomic(&self.path(key), json.as_bytes())?;
        Ok(())
    }
}

/// The command of `cargo xtask attack` that gives the same number as `line`
/// (the same attack, images, passes, batch and generator), where there is one.
fn attack_command(
    line: &AuditLine,
    file: (&str, &Path),
    args: &AuditArgs,
    passes: usize,
) -> Option<String> {
    let mut c = format!(
        "cargo xtask attack {} {} --test-size {} --repeats {passes} --batch-size {} --seed {}",
        file.0,
        file.1.display(),
        args.test_size,
        args.batch_size,
        args.seed
    );
    if args.data != AuditDataSet::Mnist || file.0 != "--checkpoint" {
        return None; // `attack` reads sgbn checkpoints and MNIST only
    }
    if let Some(dir) = &args.data_dir {
        c.push_str(&format!(" --data-dir {}", dir.display()));
    }
    if line.role == sgbn_eval::audit::AuditRole::Transfer {
        return None; // crafted on another model
    }
    let (name, eps, options) = line.spec.request()?;
    c.push(' ');
    c.push_str(&options.flags(name, eps));
    Some(c)
}

/// The model under audit, as read from its file.
enum LoadedModel {
    /// A model of sgbn-models (`--checkpoint`, `--pytorch`) at its trained slope.
    Sgbn { model: Box<ConvNet>, slope: f64 },
    /// An ONNX graph (`--onnx`).
    #[cfg(feature = "onnx")]
    Onnx {
        model: sgbn_onnx::OnnxModel,
        name: String,
    },
}

impl LoadedModel {
    /// Name, image shape `[C, H, W]` and number of classes.
    fn shape(&self) -> (String, [usize; 3], usize) {
        match self {
            Self::Sgbn { model, .. } => {
                let spec = model.spec();
                (spec.name.clone(), spec.input, spec.classes)
            }
            #[cfg(feature = "onnx")]
            Self::Onnx { model, name } => {
                use sgbn_attacks::Victim;
                (name.clone(), model.image_shape(), model.num_classes())
            }
        }
    }

    fn target(&self) -> AuditTarget<'_> {
        match self {
            Self::Sgbn { model, slope } => AuditTarget::Model {
                model: model.as_ref(),
                slope: *slope,
            },
            #[cfg(feature = "onnx")]
            Self::Onnx { model, .. } => AuditTarget::Victim(model),
        }
    }
}

/// Reads and checks the model file (before any data is loaded).
fn load_model(
    args: &AuditArgs,
    flag: &str,
    file: &Path,
    device: &candle_core::Device,
) -> anyhow::Result<LoadedModel> {
    let what = || format!("{flag} {}", file.display());
    if args.onnx.is_some() {
        #[cfg(feature = "onnx")]
        {
            let model = sgbn_onnx::OnnxModel::read(file, device).with_context(what)?;
            let name = file
                .file_stem()
                .map_or_else(|| "onnx".into(), |s| s.to_string_lossy().into_owned());
            return Ok(LoadedModel::Onnx { model, name });
        }
        #[cfg(not(feature = "onnx"))]
        anyhow::bail!(
            "{}: this xtask was built without the `onnx` feature",
            what()
        );
    }
    let (model, slope) = if args.checkpoint.is_some() {
        let ck = Checkpoint::read(file, device).with_context(what)?;
        crate::train::check_eval_memory(&ck.spec, args.batch_size, &what())?;
        let slope = trained_slope(&ck)?.unwrap_or(1.0);
        (ck.build_frozen(device)?, slope)
    } else {
        let imported = load_pytorch(file, device).with_context(what)?;
        crate::train::check_eval_memory(imported.model.spec(), args.batch_size, &what())?;
        (imported.model, imported.slope)
    };
    Ok(LoadedModel::Sgbn {
        model: Box::new(model),
        slope,
    })
}

fn load_data(args: &AuditArgs) -> anyhow::Result<(Dataset, Dataset, Vec<String>)> {
    Ok(match args.data {
        AuditDataSet::Mnist => {
            let dir = resolve_mnist_dir(args.data_dir.as_deref());
            let m = load_mnist(&dir)
                .with_context(|| format!("loading MNIST from {}", dir.display()))?;
            let sums = m.files.iter().map(|f| f.sha256.clone()).collect();
            (m.train, m.test, sums)
        }
        AuditDataSet::Cifar10 => {
            let c = load_cifar10_for(args.data_dir.as_deref()).context("loading CIFAR-10")?;
            println!("CIFAR-10: {} from {}", c.kind.label(), c.source.display());
            (c.data.train, c.data.test, c.sha256.clone())
        }
    })
}

pub fn run(args: &AuditArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let budget = args.budget();
    budget.validate()?;
    let (flag, file) = args.file();
    let device = crate::compute_device()?;
    let bytes =
        read_regular_file(file).with_context(|| format!("reading {flag} {}", file.display()))?;
    let model_sha = sha256_hex(&bytes);
    drop(bytes);
    let loaded = load_model(args, flag, file, &device)?;
    let (name, input, classes) = loaded.shape();
    // The sizes are checked before the data is loaded (a mismatch costs nothing).
    anyhow::ensure!(
        args.data.image_shape() == input,
        "{flag} {}: the model takes {:?} images, --data {:?} gives {:?}",
        file.display(),
        input,
        args.data,
        args.data.image_shape()
    );
    let (train, test, data_sums) = load_data(args)?;
    let image = test.images().dims()[1..].to_vec();
    anyhow::ensure!(
        image == input,
        "{flag} {}: the model takes {:?} images, --data {:?} gives {image:?}",
        file.display(),
        input,
        args.data
    );
    anyhow::ensure!(
        classes == test.num_classes(),
        "{flag} {}: the model has {} outputs, --data {:?} has {} classes",
        file.display(),
        classes,
        args.data,
        test.num_classes()
    );
    let (train, test) = (train.to_device(&device)?, test.to_device(&device)?);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results")
            .join("audit")
            .join(crate::output::safe_file_name(&name, "-_."))
    });
    let created = crate::output::prepare_out_dir(&out)?;
    let result = audit_into(
        args,
        &budget,
        (flag, file),
        &loaded,
        (&train, &test),
        &out,
        AuditIdentity {
            model: model_sha,
            data: data_sums.join(","),
        },
        start,
    );
    if result.is_err() {
        crate::output::remove_created(&created);
    }
    result
}

#[allow(clippy::too_many_arguments)] // the checked inputs of `run`
fn audit_into(
    args: &AuditArgs,
    budget: &AuditBudget,
    file: (&str, &Path),
    model: &LoadedModel,
    (train, test): (&Dataset, &Dataset),
    out: &Path,
    identity: AuditIdentity,
    start: Instant,
) -> anyhow::Result<()> {
    let cache_dir = out.join("cache");
    crate::output::create_own_dir(&cache_dir)?;
    let audit_dir = cache_dir.join("audit");
    crate::output::create_own_dir(&audit_dir)?;
    let surrogate_key = key_hash(&(
        sgbn_eval::RESULTS_VERSION,
        &identity.data,
        sgbn_eval::audit::surrogate_config(budget),
        budget.surrogate_train_size,
    ))?;
    let mut cache = FileCache {
        dir: audit_dir.clone(),
    };
    let bar = ProgressBar::new(1000).with_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30} {percent:>3}% (by forward passes) eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut last_stage = String::new();
    let mut progress = |p: &AuditProgress| {
        bar.set_position((1000.0 * p.done / p.total.max(1.0)) as u64);
        if p.stage != last_stage {
            bar.set_message(p.stage.clone());
            if bar.is_hidden() || p.cached {
                tracing::info!(stage = %p.stage, cached = p.cached, done_pct = (100.0 * p.done / p.total.max(1.0)) as u32, "audit");
            }
            last_stage.clone_from(&p.stage);
        }
    };
    let report = audit_with(
        model.target(),
        AuditData {
            test,
            train: (args.surrogate_epochs > 0).then_some(train),
        },
        budget,
        AuditHooks {
            cache: Some((&mut cache, identity)),
            progress: Some(&mut progress),
            surrogate_checkpoint: Some(
                audit_dir.join(format!("surrogate-{surrogate_key}.safetensors")),
            ),
        },
    )?;
    bar.finish_and_clear();
    let figure = report.figure();
    let svg = sgbn_eval::draw::svg(&figure).context("the audit's figure is a line plot")?;
    write_atomic(&out.join("audit.svg"), svg.as_bytes())?;
    let mut figures = vec!["audit.svg".to_string()];
    if let Some(png) = sgbn_eval::draw::png_plot(&figure)? {
        write_atomic(&out.join("audit.png"), &png)?;
        figures.push("audit.png".into());
    }
    let passes = report.passes;
    let line_command = |l: &AuditLine| attack_command(l, file, args, passes);
    let md = report.markdown(&MarkdownOptions {
        title: format!("{} ({} {})", model.shape().0, file.0, file.1.display()),
        audit_command: Some(
            std::env::args()
                .skip(1)
                .fold("cargo xtask".to_string(), |a, s| a + " " + &s),
        ),
        line_command: Some(&line_command),
        figures,
    });
    write_atomic(&out.join("AUDIT.md"), md.as_bytes())?;
    write_atomic(
        &out.join("audit.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    println!("{}", report.verdict);
    println!(
        "{} ({:.0} s) → {}",
        out.join("AUDIT.md").display(),
        start.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
