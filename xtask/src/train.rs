//! `cargo xtask train`: train one model on MNIST, write its checkpoint and a
//! metrics JSON.

use std::{ops::ControlFlow, path::PathBuf, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use sgbn_data::{Dataset, load_cifar10_binary, load_mnist, resolve_mnist_dir};
use sgbn_defenses::{
    EarlyStopping, EarlyStoppingRule, EpochLog, TrainConfig, TrainObserver, train,
};
use sgbn_estimators::SeededRng;
use sgbn_models::{
    Classifier, ConvNet, ForwardContext, MODEL_HELP, MODEL_NAMES, ModelSpec, accuracy, write_atomic,
};

/// A model name [`ModelSpec::named`] accepts.
pub fn parse_model(name: &str) -> Result<String, String> {
    ModelSpec::named(name)
        .map(|_| name.to_ascii_lowercase())
        .map_err(|e| e.to_string())
}

/// The `--model` help text: every base name and what it builds.
pub fn model_help() -> String {
    format!(
        "Model to train: {}.\n\n{MODEL_HELP}",
        MODEL_NAMES.join(", ")
    )
}

/// Arguments of `cargo xtask train`.
/// Which early-stopping rule `train` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StopRule {
    /// Ours: validation accuracy after every epoch.
    Epochs,
    /// The authors' TF code: validation loss every 100 steps from 19,000.
    Authors,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Model to train (see the list below).
    #[arg(long, value_parser = parse_model, long_help = model_help())]
    model: String,
    /// Gate probes (1st-gm, 2nd-gm, 1w-…): the trained SGBN / 1W-SGBN
    /// checkpoint whose frozen gate feeds the new head.
    #[arg(long)]
    base: Option<PathBuf>,
    /// Dropout probability after the hidden dense unit (chapter 3).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    dropout: f64,
    /// L1 penalty λ on the weights (eq. 2.9).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    l1: f64,
    /// L2 penalty λ on the weights (eq. 2.9).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    l2: f64,
    /// PGD steps of adversarial training (models with PGD; thesis: 40).
    #[arg(long)]
    pgd_steps: Option<usize>,
    /// Number of epochs (an upper bound with early stopping).
    #[arg(long, default_value_t = 25)]
    epochs: usize,
    /// Train on the first K training images (default: all 60,000).
    #[arg(long)]
    train_size: Option<usize>,
    /// Hold out V training images (seeded) for validation and early stopping
    /// (default 0: no validation, no early stopping).
    #[arg(long, default_value_t = 0)]
    validation_size: usize,
    /// Early-stopping patience (with --validation-size): epochs for
    /// `--early-stopping epochs`, checks for `authors`.
    #[arg(long, default_value_t = 3)]
    patience: usize,
    /// Early-stopping rule (with --validation-size): `epochs` (ours: stop
    /// when the best validation accuracy is `--patience` epochs back) or
    /// `authors` (the authors' TF code: validation loss on 500 held-out
    /// images every 100 steps from step 19,000; stop after `--patience` + 1
    /// checks without a lower loss; docs/reproduction.md).
    #[arg(long, value_enum, default_value_t = StopRule::Epochs)]
    early_stopping: StopRule,
    /// Mini-batch size (thesis: 50).
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// Adam learning rate (thesis: 1e-3).
    #[arg(long, default_value_t = 1e-3, allow_hyphen_values = true)]
    lr: f64,
    /// Zero padding of every conv layer (default: the model's own, VALID = 0
    /// on MNIST as in the authors' code; 2 for the PyTorch comparison).
    #[arg(long)]
    padding: Option<usize>,
    /// Seed of initialization, batch order and every stochastic unit.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Refuse a model whose estimated training memory (parameters with
    /// their gradients and Adam moments, plus one batch's activations)
    /// exceeds this many GB (default: three quarters of this machine's
    /// memory).
    #[arg(long)]
    max_memory_gb: Option<f64>,
    /// Output directory (checkpoint.safetensors, metrics.json).
    #[arg(long)]
    out: PathBuf,
    /// MNIST directory (default: $SGBN_DATA_DIR, then the vendored copy);
    /// for `cifar10-` models, the directory of the binary CIFAR-10 batches.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Progress bar over the batches of the run (hidden without a terminal).
struct Progress {
    bar: ProgressBar,
    /// (epoch, seconds) of the epochs this process trained.
    epoch_seconds: Vec<(usize, f64)>,
}

impl TrainObserver for Progress {
    fn batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) -> ControlFlow<()> {
        if batch == 0 {
            self.bar.set_length(batches as u64);
            self.bar.set_position(0);
            self.bar.set_prefix(format!("epoch {epoch}"));
        }
        self.bar.inc(1);
        if batch.is_multiple_of(10) {
            self.bar.set_message(format!("loss {loss:.4}"));
        }
        // Without a terminal the bar is hidden: log every tenth of an epoch.
        let tenth = batches.div_ceil(10).max(1);
        if self.bar.is_hidden() && (batch + 1).is_multiple_of(tenth) {
            tracing::info!(
                epoch,
                batch = batch + 1,
                batches,
                loss,
                elapsed_s = self.bar.elapsed().as_secs(),
                eta_s = self.bar.eta().as_secs(),
                "training"
            );
        }
        ControlFlow::Continue(())
    }

    fn epoch(&mut self, log: &EpochLog) {
        self.epoch_seconds.push((log.epoch, log.seconds));
        self.bar.println(format!(
            "epoch {:>2}: loss {:.4}, train acc {:.2} %, val acc {}, slope {:.2}, {:.1} s",
            log.epoch,
            log.train_loss,
            100.0 * log.train_accuracy,
            log.validation_accuracy
                .map_or("-".to_string(), |a| format!("{:.2} %", 100.0 * a)),
            log.slope,
            log.seconds
        ));
    }
}

/// Training and test sets for the spec's input: MNIST (vendored or
/// `--data-dir`), or the binary CIFAR-10 batches in `--data-dir` for the
/// `cifar10-` models; with the data files' digests where known.
fn load_data(
    spec: &ModelSpec,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<(Dataset, Dataset, serde_json::Value)> {
    if spec.input == [3, 32, 32] {
        let dir = data_dir.context(
            "CIFAR-10 models need --data-dir DIR holding the binary CIFAR-10 batches \
             (data_batch_1.bin … test_batch.bin)",
        )?;
        let c = load_cifar10_binary(dir)
            .with_context(|| format!("loading CIFAR-10 from {}", dir.display()))?;
        let files = serde_json::json!({ "cifar10_binary_dir": dir.display().to_string() });
        return Ok((c.train, c.test, files));
    }
    let dir = resolve_mnist_dir(data_dir);
    let mnist =
        load_mnist(&dir).with_context(|| format!("loading MNIST from {}", dir.display()))?;
    let files = mnist
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "file": f.path.file_name().map(|n| n.to_string_lossy().into_owned()),
                "sha256": f.sha256,
            })
        })
        .collect();
    Ok((mnist.train, mnist.test, files))
}

/// Checks the values a model build and the trainer would reject (or,
/// worse, accept) before any data is loaded: rules in the message.
fn check_values(args: &TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.epochs >= 1, "--epochs must be at least 1 (got 0)");
    anyhow::ensure!(
        args.batch_size >= 1,
        "--batch-size must be at least 1 (got 0)"
    );
    anyhow::ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr must be a finite number > 0 (got {})",
        args.lr
    );
    anyhow::ensure!(
        (0.0..1.0).contains(&args.dropout),
        "--dropout must be in [0, 1) (got {})",
        args.dropout
    );
    for (name, v) in [("--l1", args.l1), ("--l2", args.l2)] {
        anyhow::ensure!(
            v.is_finite() && v >= 0.0,
            "{name} must be a finite number ≥ 0 (got {v})"
        );
    }
    anyhow::ensure!(
        args.patience >= 1,
        "--patience must be at least 1 (got 0): early stopping would stop after the first check"
    );
    if args.pgd_steps == Some(0) {
        anyhow::bail!("--pgd-steps must be at least 1 (got 0)");
    }
    if args.train_size == Some(0) {
        anyhow::bail!("--train-size must be at least 1 (got 0)");
    }
    if let Some(gb) = args.max_memory_gb {
        anyhow::ensure!(
            gb.is_finite() && gb > 0.0,
            "--max-memory-gb must be > 0 (got {gb})"
        );
    }
    Ok(())
}

/// Three quarters of this machine's memory (Linux `MemTotal`), or 16 GB
/// where unknown.
fn default_memory_limit_gb() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(16.0, |kb| 0.75 * kb * 1024.0 / 1e9)
}

/// Refuses a model whose estimated training memory is above the limit,
/// before it is built ([`ModelSpec::memory_estimate`]).
fn check_memory(spec: &ModelSpec, args: &TrainArgs) -> anyhow::Result<()> {
    spec.validate()?;
    let est = spec.memory_estimate(args.batch_size);
    let limit_gb = args.max_memory_gb.unwrap_or_else(default_memory_limit_gb);
    let gb = est.total_bytes() as f64 / 1e9;
    tracing::debug!(
        parameters = est.parameters,
        estimated_gb = gb,
        limit_gb,
        "memory estimate"
    );
    anyhow::ensure!(
        gb <= limit_gb,
        "{} with batch {} needs an estimated {gb:.1} GB to train ({} parameters: {:.1} GB with \
         gradients and Adam state; activations: {:.1} GB; checkpoint: {:.1} GB), above the \
         limit of {limit_gb:.1} GB; \
         use a smaller --batch-size or --padding, or raise the limit with --max-memory-gb",
        spec.name,
        args.batch_size,
        est.parameters,
        est.parameter_bytes as f64 / 1e9,
        est.activation_bytes as f64 / 1e9,
        est.checkpoint_bytes as f64 / 1e9,
    );
    Ok(())
}

/// Refuses to evaluate or attack a model read from a file (`what` names
/// it) whose parameters and one batch of `batch` images' activations
/// would need more than three quarters of this machine's memory, before it
/// is built: the spec of a file may hold any sizes (docs/robustness.md).
pub fn check_eval_memory(spec: &ModelSpec, batch: usize, what: &str) -> anyhow::Result<()> {
    spec.validate()
        .with_context(|| format!("the model spec of {what}"))?;
    let est = spec.memory_estimate(batch);
    let bytes = est
        .parameters
        .saturating_mul(4)
        .saturating_add(est.activation_bytes);
    let limit_gb = default_memory_limit_gb();
    let gb = bytes as f64 / 1e9;
    anyhow::ensure!(
        gb <= limit_gb,
        "{what}: {} needs an estimated {gb:.1} GB for a batch of {batch} ({} parameters; \
         activations {:.1} GB), above {limit_gb:.1} GB, three quarters of this machine's memory; \
         use a smaller --batch-size",
        spec.name,
        est.parameters,
        est.activation_bytes as f64 / 1e9,
    );
    Ok(())
}

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    check_values(args)?;
    let created = crate::output::prepare_out_dir(&args.out)?;
    let result = run_in(args);
    if result.is_err() {
        crate::output::remove_created(&created);
    }
    result
}

fn run_in(args: &TrainArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut spec = ModelSpec::named(&args.model)?;
    if let Some(p) = args.padding {
        spec = spec.with_padding(p);
    }
    check_memory(&spec, args)?;
    let (train_full, test_full, data_files) = load_data(&spec, args.data_dir.as_deref())?;
    let train_set = match args.train_size {
        Some(k) => train_full.first(k)?,
        None => train_full,
    };
    let (train_set, validation) = if args.validation_size > 0 {
        let (t, v) = train_set.split_validation(args.validation_size, args.seed)?;
        (t, Some(v))
    } else {
        (train_set, None)
    };
    spec.dense_dropout = args.dropout;
    match (args.pgd_steps, spec.adversarial_training.as_mut()) {
        (Some(steps), Some(adv)) => adv.steps = steps,
        (Some(_), None) => anyhow::bail!(
            "--pgd-steps is for the models trained with PGD (bnn-pgd, bnn-dt, bnn-st); {} is not",
            spec.name
        ),
        (None, _) => {}
    }
    let device = crate::compute_device()?;
    let model = ConvNet::new(&spec, args.seed, &device)?;
    match (&args.base, spec.probe) {
        (Some(base), Some(_)) => {
            let ck = sgbn_models::Checkpoint::read(base, &device)?;
            model
                .load_probe_base(&ck)
                .with_context(|| format!("loading the probe's base from {}", base.display()))?;
        }
        (None, Some(_)) => anyhow::bail!(
            "{} is a gate probe: give the trained SGBN checkpoint with --base",
            spec.name
        ),
        (Some(_), None) => anyhow::bail!("--base is only for gate probes (1st-gm, 2nd-gm, …)"),
        (None, None) => {}
    }
    let mut config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        early_stopping: validation.as_ref().map(|_| EarlyStopping {
            patience: args.patience,
            rule: match args.early_stopping {
                StopRule::Epochs => EarlyStoppingRule::EpochAccuracy,
                StopRule::Authors => EarlyStoppingRule::authors(),
            },
        }),
        seed: args.seed,
        l1: args.l1,
        l2: args.l2,
        ..TrainConfig::default()
    }
    .with_recipe_of(&spec);
    config.adam.lr = args.lr;
    let checkpoint = args.out.join("checkpoint.safetensors");
    tracing::info!(model = %spec.name, train = train_set.len(),
        validation = validation.as_ref().map_or(0, |v| v.len()), "training");
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = Progress {
        bar,
        epoch_seconds: Vec::new(),
    };
    let report = train(
        &model,
        &train_set,
        validation.as_ref(),
        &config,
        Some(&checkpoint),
        &mut progress,
    )
    .map_err(|e| {
        let hint = match &e {
            sgbn_defenses::TrainError::NonFiniteLoss { .. } => {
                format!(" with --lr {:?}: try a smaller --lr", args.lr)
            }
            _ => String::new(),
        };
        anyhow::Error::new(e).context(format!(
            "training {} (checkpoint {}){hint}",
            spec.name,
            checkpoint.display()
        ))
    })?;
    progress.bar.finish_and_clear();

    let eval_start = Instant::now();
    let mut rng = SeededRng::seed_from_u64(args.seed ^ 0x7e57);
    let test_set = test_full.to_device(&device)?;
    let test = accuracy(
        &model,
        test_set.images(),
        test_set.labels(),
        500,
        ForwardContext::eval(report.final_slope),
        &mut rng,
    )?;
    let metrics = serde_json::json!({
        "model": spec.name,
        "spec": spec,
        "train_config": config,
        "train_size": train_set.len(),
        "validation_size": validation.as_ref().map_or(0, |v| v.len()),
        "epochs": report.epochs,
        "stopped_early": report.stopped_early,
        "test_accuracy": test.fraction(),
        "test_correct": test.correct,
        "test_total": test.total,
        "stochastic_at_test": model.is_stochastic(),
        "data": data_files,
    });
    let path = args.out.join("metrics.json");
    write_atomic(&path, serde_json::to_string_pretty(&metrics)?.as_bytes())?;
    // Timings in their own file: metrics.json and the checkpoint are
    // byte-identical for the same seed and command.
    let timings = serde_json::json!({
        "epoch_seconds": progress.epoch_seconds,
        "test_eval_seconds": eval_start.elapsed().as_secs_f64(),
        "wall_seconds": start.elapsed().as_secs_f64(),
        "peak_rss_bytes": peak_rss_bytes(),
    });
    write_atomic(
        &args.out.join("timings.json"),
        serde_json::to_string_pretty(&timings)?.as_bytes(),
    )?;
    if let Some(p) = peak_rss_bytes() {
        tracing::info!(peak_rss_gb = p as f64 / 1e9, "peak resident memory");
    }
    println!(
        "{}: test accuracy {:.2} % ({} / {}) after {} epoch(s); checkpoint {}, metrics {}",
        spec.name,
        100.0 * test.fraction(),
        test.correct,
        test.total,
        report.epochs.len(),
        checkpoint.display(),
        path.display()
    );
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
