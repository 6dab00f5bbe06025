//! `cargo xtask attack`: attack a trained checkpoint on the MNIST test set at
//! several budgets; a table on the terminal, JSON in the output directory.

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sgbn_attacks::{ApgdLoss, EvalClassifier, LabelSource, SuiteVersion};
use sgbn_defenses::trained_slope;
use sgbn_eval::{
    AttackCost, AttackName, AttackOptions, AttackSpec, CleanConfig, EvalConfig, GradientOptions,
    clean_check, evaluate_model, stage_rng,
};
use sgbn_metrics::{AttackAccuracy, RepeatedAccuracy, RunSummary, SanityFlags};
use sgbn_models::{Bpda, Checkpoint, Classifier, write_atomic};

/// `--version` of `--attack autoattack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Version {
    /// APGD-CE, APGD-T and Square 5,000 queries (AutoAttack's `standard`
    /// without FAB-T, docs/attacks.md).
    Standard,
    /// APGD-CE and APGD-DLR with EOT over 20 draws, for randomized defenses.
    Rand,
}

/// Arguments of `cargo xtask attack`.
#[derive(Debug, clap::Args)]
pub struct AttackArgs {
    /// Checkpoint written by `cargo xtask train`.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Attack(s), comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fgsm")]
    attack: Vec<AttackName>,
    /// ℓ∞ budgets ε, comma-separated, each in [0, 1].
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0.1,0.2,0.3"
    )]
    eps: Vec<f64>,
    /// Iterations T of BIM / ILL (default 10, the thesis's), PGD (default 40)
    /// and APGD (default 100, AutoAttack's).
    #[arg(long)]
    steps: Option<usize>,
    /// Runs of APGD from fresh random starts (AutoAttack: 1).
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// Target classes of APGD-T (AutoAttack: 9).
    #[arg(long, default_value_t = 9)]
    targets: usize,
    /// APGD with AutoAttack's rule on a stochastic model (the last EOT draw
    /// decides success, an unbroken image is returned clean) instead of
    /// sgbn's (a majority of the draws; its best point): for cross-checks.
    #[arg(long)]
    apgd_autoattack_rule: bool,
    /// The suite of `--attack autoattack`.
    #[arg(long, value_enum, default_value = "standard")]
    version: Version,
    /// Step α of BIM / ILL / PGD. Default: BIM / ILL the thesis's 0.01 while
    /// T·0.01 reaches ε, else 2.5·ε/T; PGD 2.5·ε/T (Madry et al.). Must be ≤ ε.
    #[arg(long, allow_negative_numbers = true)]
    step_size: Option<f64>,
    /// Draws of the model's randomness averaged per gradient (EOT), or per
    /// Square query.
    #[arg(long, default_value_t = 1)]
    eot: usize,
    /// Forward passes over the adversarial (and clean) images whose accuracy
    /// is averaged; the majority vote is reported too.
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    /// Query budget per image of the Square attack (default 1000).
    #[arg(long)]
    queries: Option<usize>,
    /// Project BIM / ILL only onto [0, 1], not onto the ε-ball (the literal
    /// eqs. 2.27–2.28).
    #[arg(long)]
    literal: bool,
    /// Labels of the gradient attacks' loss: `true`, or `predicted` (the
    /// model's own prediction, as CleverHans v1 and the thesis's code).
    #[arg(long, value_enum, default_value = "true")]
    labels: Labels,
    /// BPDA: differentiate these parts as the identity (comma-separated:
    /// dense-unit, gate-sampling, gate-activation, all).
    #[arg(long, value_enum, value_delimiter = ',')]
    bpda: Vec<BpdaPart>,
    /// Craft against the gate masks drawn on the clean images (the
    /// evaluation draws fresh masks).
    #[arg(long)]
    fixed_masks: bool,
    /// Attack the first N test images.
    #[arg(long, default_value_t = 1000)]
    test_size: usize,
    /// Batch size of the attacks.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Seed of the attacks' random choices and of the model's sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (default: `results/attack/<model>`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// MNIST directory (default: $SGBN_DATA_DIR, then the vendored copy).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// `--labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Labels {
    /// The true labels.
    True,
    /// The model's own prediction (CleverHans v1).
    Predicted,
}

/// `--bpda`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BpdaPart {
    /// The binary dense unit.
    DenseUnit,
    /// The gates' σ and sampling.
    GateSampling,
    /// The gates' tanh / asinh.
    GateActivation,
    /// All of them.
    All,
}

/// The request's options as the flags give them: the one mapping from the
/// command line to `sgbn_eval` (`AttackOptions::spec` makes the spec, with
/// the library's defaults for what is left out).
fn options(args: &AttackArgs) -> AttackOptions {
    let mut bpda = Bpda::default();
    for part in &args.bpda {
        match part {
            BpdaPart::DenseUnit => bpda.dense_unit = true,
            BpdaPart::GateSampling => bpda.gate.sampling = true,
            BpdaPart::GateActivation => bpda.gate.activation = true,
            BpdaPart::All => bpda = Bpda::all(),
        }
    }
    AttackOptions {
        steps: args.steps,
        step_size: args.step_size,
        eot: args.eot,
        queries: args.queries,
        literal: args.literal,
        restarts: args.restarts,
        targets: args.targets,
        autoattack_rule: args.apgd_autoattack_rule,
        version: match args.version {
            Version::Standard => SuiteVersion::Standard,
            Version::Rand => SuiteVersion::Rand,
        },
        gradient: GradientOptions {
            labels: match args.labels {
                Labels::True => LabelSource::True,
                Labels::Predicted => LabelSource::Predicted,
            },
            bpda,
            fixed_masks: args.fixed_masks,
        },
    }
}

/// One (attack, ε) row of the result.
#[derive(Debug, serde::Serialize)]
struct Row {
    attack: AttackName,
    name: String,
    spec: AttackSpec,
    eps: f64,
    /// Accuracy of the single judging pass the attack made.
    accuracy_one_pass: f64,
    /// Accuracy over `repeats` further passes over the adversarial images
    /// (absent with `--repeats 1`: the judging pass is then the result).
    accuracy_repeated: Option<RepeatedAccuracy>,
    /// The accuracy reported: over the repeated passes when there were any.
    accuracy: f64,
    #[serde(flatten)]
    cost: AttackCost,
    seconds: f64,
    /// Per image, how many of the passes (`--repeats`, else the judging
    /// pass) were right: for per-image comparisons and worst cases.
    correct_passes: Option<Vec<u16>>,
}

pub fn run(args: &AttackArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    if args.repeats == 0 || args.test_size == 0 || args.batch_size == 0 {
        bail!("--repeats, --test-size and --batch-size must be ≥ 1");
    }
    let request = options(args);
    for warning in request.check(&args.attack, &args.eps)? {
        tracing::warn!("{warning}");
    }
    // Every attack built once before the expensive work (`evaluate` builds
    // its own when it runs): a value it
    // refuses stops the command here, and its name labels its row.
    let mut attacks = Vec::new();
    for &kind in &args.attack {
        for &eps in &args.eps {
            let spec = request.spec(kind, eps);
            let label = spec
                .build(args.seed)
                .with_context(|| format!("--attack {} at --eps {eps}", kind.flag()))?
                .name();
            attacks.push((kind, eps, spec, label));
        }
    }
    let device = crate::compute_device()?;
    let ck = Checkpoint::read(&args.checkpoint, &device)?;
    crate::train::check_eval_memory(
        &ck.spec,
        args.batch_size,
        &format!("--checkpoint {}", args.checkpoint.display()),
    )?;
    let model = ck.build_frozen(&device)?;
    let slope = trained_slope(&ck)?.unwrap_or(1.0);
    let victim = EvalClassifier::new(&model, slope);
    // The output folder is checked before the attacks run, not after.
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results")
            .join("attack")
            .join(&model.spec().name)
    });
    let created = crate::output::prepare_out_dir(&out_dir)?;
    let result = attack_all(
        args, &attacks, start, &model, slope, &victim, &out_dir, &device,
    );
    if result.is_err() {
        crate::output::remove_created(&created);
    }
    result
}

/// An attack of the command: its name, budget, spec and label.
type Planned = (AttackName, f64, AttackSpec, String);

/// Everything after the checks: the attacks, the table, attack.json.
#[allow(clippy::too_many_arguments)]
fn attack_all(
    args: &AttackArgs,
    attacks: &[Planned],
    start: Instant,
    model: &sgbn_models::ConvNet,
    slope: f64,
    victim: &EvalClassifier<'_>,
    out_dir: &std::path::Path,
    device: &candle_core::Device,
) -> anyhow::Result<()> {
    let (mnist, test) =
        crate::data::mnist_and_test(args.data_dir.as_deref(), args.test_size, "--test-size")?;
    let test = test.to_device(device)?;
    let n = test.len();
    let name = model.spec().name.clone();
    tracing::info!(model = %name, slope, examples = n, stochastic = model.is_stochastic(), "attacking");

    // Clean accuracy over at least two passes (to detect randomness), and
    // the input gradients for the sanity flags.
    let clean = clean_check(
        victim,
        test.images(),
        test.labels(),
        &CleanConfig {
            repeats: args.repeats,
            eot: args.eot,
            batch_size: args.batch_size,
        },
        &mut stage_rng(args.seed, "clean"),
    )?;

    let total = (attacks.len() * n) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut rows = Vec::new();
    for (kind, eps, spec, label) in attacks {
        let (kind, eps, spec, label) = (*kind, *eps, spec.clone(), label.clone());
        {
            bar.set_prefix(label.clone());
            let done_before = bar.position();
            let config = EvalConfig {
                batch_size: args.batch_size,
                repeats: args.repeats,
                attack_seed: args.seed,
                confidence_bins: None,
            };
            let result = evaluate_model(
                model,
                slope,
                &spec,
                &config,
                test.images(),
                test.labels(),
                &mut stage_rng(args.seed, &label),
                &mut |done, _| {
                    bar.set_position(done_before + done as u64);
                    if bar.is_hidden() {
                        tracing::debug!(attack = %label, done, "batch");
                    }
                },
            )?;
            let row = Row {
                attack: kind,
                name: label.clone(),
                eps,
                accuracy_one_pass: result.accuracy,
                accuracy: result.headline(),
                accuracy_repeated: result.repeated.clone(),
                cost: result
                    .cost
                    .context("the evaluation measured no distortion")?,
                seconds: result.seconds,
                correct_passes: result.correct_passes.clone(),
                spec,
            };
            tracing::info!(attack = %label, accuracy = row.accuracy_one_pass,
                seconds = row.seconds, "attack done");
            rows.push(row);
        }
    }
    bar.finish_and_clear();

    // Gradient-masking check per ε: the gradient-free attack against the
    // strongest gradient attack.
    let mut sanity_per_eps = Vec::new();
    for &eps in &args.eps {
        let at = |gradient: bool| {
            rows.iter()
                .filter(|r| r.eps == eps && r.spec.is_gradient_based() == gradient)
                .map(|r| r.accuracy)
                .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.min(a))))
                .map(|accuracy| AttackAccuracy { accuracy, n })
        };
        let apgd = |loss: ApgdLoss| {
            rows.iter()
                .find(|r| {
                    r.eps == eps
                        && matches!(&r.spec, AttackSpec::Apgd { loss: l, .. } if *l == loss)
                })
                .map(|r| AttackAccuracy {
                    accuracy: r.accuracy,
                    n,
                })
        };
        let mut evidence = clean.evidence().with_attacks(at(true), at(false));
        if let (Some(ce), Some(dlr)) = (apgd(ApgdLoss::Ce), apgd(ApgdLoss::Dlr)) {
            evidence = evidence.with_apgd(ce, dlr);
        }
        let flags = SanityFlags::check(&evidence);
        sanity_per_eps.push((eps, flags));
    }

    print_table(&name, n, &clean.repeated, &rows, args.repeats);
    let mut warnings: Vec<String> = Vec::new();
    for (eps, flags) in &sanity_per_eps {
        for w in flags.warnings() {
            let line = format!("ε {eps}: {w}");
            if !warnings.contains(&line) {
                warnings.push(line);
            }
        }
    }
    for w in &warnings {
        println!("warning: {w}");
    }

    let json = serde_json::json!({
        "checkpoint": args.checkpoint,
        "model": name,
        "spec": model.spec(),
        "slope": slope,
        "stochastic": model.is_stochastic(),
        "examples": n,
        "seed": args.seed,
        "eot": args.eot,
        "repeats": args.repeats,
        "clean": clean.repeated,
        "clean_summary": RunSummary::of(&clean.repeated.per_pass)?,
        "input_gradients": clean.gradients,
        "rows": rows,
        "sanity": sanity_per_eps.iter().map(|(eps, f)| serde_json::json!({"eps": eps, "flags": f, "warnings": f.warnings()})).collect::<Vec<_>>(),
        "data": mnist.files.iter().map(|f| serde_json::json!({
            "file": f.path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "sha256": f.sha256,
        })).collect::<Vec<_>>(),
        "wall_seconds": start.elapsed().as_secs_f64(),
    });
    let path = out_dir.join("attack.json");
    write_atomic(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    println!("results: {}", path.display());
    Ok(())
}

fn print_table(model: &str, n: usize, clean: &RepeatedAccuracy, rows: &[Row], repeats: usize) {
    let pct = |x: f64| format!("{:.2}", 100.0 * x);
    println!(
        "{model} on {n} MNIST test images: clean accuracy {} % ({} passes{})",
        pct(clean.summary.mean),
        clean.per_pass.len(),
        if clean.unstable_fraction > 0.0 {
            format!(
                ", {:.1} % of predictions change between passes",
                100.0 * clean.unstable_fraction
            )
        } else {
            String::new()
        }
    );
    println!(
        "| {:<40} | {:>5} | {:>9} | {:>16} | {:>8} | {:>7} | {:>7} | {:>7} | {:>7} |",
        "attack",
        "ε",
        "acc 1× %",
        format!("acc {repeats}× mean±std"),
        "vote %",
        "ℓ1",
        "ℓ∞ max",
        "passes",
        "s"
    );
    println!(
        "|{:-<42}|{:-<7}|{:-<11}|{:-<18}|{:-<10}|{:-<9}|{:-<9}|{:-<9}|{:-<9}|",
        "", "", "", "", "", "", "", "", ""
    );
    for r in rows {
        let (mean, std, vote) = r
            .accuracy_repeated
            .as_ref()
            .map_or((r.accuracy_one_pass, 0.0, r.accuracy_one_pass), |a| {
                (a.summary.mean, a.summary.std, a.majority_vote)
            });
        println!(
            "| {:<40} | {:>5} | {:>9} | {:>16} | {:>8} | {:>7.4} | {:>7.4} | {:>7.1} | {:>7.1} |",
            r.name,
            r.eps,
            pct(r.accuracy_one_pass),
            format!("{} ± {}", pct(mean), pct(std)),
            pct(vote),
            r.cost.mean_l1,
            r.cost.max_linf,
            r.cost.mean_forward_passes,
            r.seconds
        );
    }
}
