//! `cargo xtask reproduce` and `cargo xtask report`: the command line,
//! the run over the plan with its progress bar, the cache on disk
//! ([`cache`]), and the files of the report ([`mod@report`], [`svg`]). The
//! experiments, profiles and the evaluation protocol are `sgbn-eval`'s.
//! See docs/reproduction.md.

mod cache;
mod png;
mod report;
mod svg;

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sgbn_data::{Mnist, load_mnist, resolve_mnist_dir};
use sgbn_eval::Results;

use sgbn_eval::{Plan, PlanContext, Profile, available, experiments::select};

use self::cache::Cache;

/// What `reproduce` and `report` share: which results, and where.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Profile: smoke (CI, seconds), quick (default, ≤ 1 h here), thesis-budget (one run
    /// at the thesis's training budget), full (the thesis's settings).
    #[arg(long, default_value = "quick")]
    profile: String,
    /// Only these experiments (comma-separated ids; default: the headline
    /// set, and every experiment with `--profile full`; see `--list`).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Override the profile's number of runs.
    #[arg(long)]
    runs: Option<usize>,
    /// MNIST directory (default: $SGBN_DATA_DIR, then the vendored copy).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Output directory (default: `results/<profile>`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `cargo xtask reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    #[command(flatten)]
    selection: Selection,
    /// List the experiments and the profile's sizes, and stop.
    #[arg(long)]
    list: bool,
}

/// Arguments of `cargo xtask report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    selection: Selection,
}

fn workspace_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Profile, data, data checksums (file, sha256) and output directory.
type Setup = (Profile, Mnist, Vec<(String, String)>, PathBuf);

fn setup(sel: &Selection) -> anyhow::Result<Setup> {
    let mut profile = Profile::named(&sel.profile)?;
    if let Some(r) = sel.runs {
        anyhow::ensure!(r > 0, "--runs must be ≥ 1");
        profile.runs = r;
        profile.adaptive_runs = profile.adaptive_runs.min(r);
        profile.ch3_runs = r;
    }
    let dir = resolve_mnist_dir(sel.data_dir.as_deref());
    let mnist =
        load_mnist(&dir).with_context(|| format!("loading MNIST from {}", dir.display()))?;
    let data: Vec<(String, String)> = mnist
        .files
        .iter()
        .map(|f| {
            (
                f.path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                f.sha256.clone(),
            )
        })
        .collect();
    let out = sel
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(profile.name));
    Ok((profile, mnist, data, out))
}

pub fn reproduce(args: &ReproduceArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let experiments = select(&args.selection.only, args.selection.profile == "full")?;
    let (profile, mnist, data, out) = setup(&args.selection)?;
    for line in profile.describe() {
        println!("{line}");
    }
    if args.list {
        for e in &experiments {
            let missing: Vec<&str> = e
                .models()
                .iter()
                .copied()
                .filter(|m| !available(m))
                .collect();
            println!(
                "{:<10} {} [{}]{}",
                e.id(),
                e.title(),
                e.models().join(", "),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(" (not built yet: {})", missing.join(", "))
                }
            );
        }
        return Ok(());
    }
    let cache = Cache::open(&out.join("cache"), crate::compute_device()?)?;
    let sums: Vec<String> = data.iter().map(|(_, s)| s.clone()).collect();
    let plan = Plan::build(
        &experiments,
        &PlanContext {
            profile: &profile,
            data: &sums,
        },
    )?;
    let (train_available, test_available) = (mnist.train.len(), mnist.test.len());

    // Every unit of work in run order (training first: evaluations need
    // the models), with its cost in GFLOP for the progress bar's ETA and
    // whether the cache holds it already.
    type Work<'a> = Box<dyn Fn() -> anyhow::Result<()> + 'a>;
    let mut units: Vec<(String, f64, bool, Work<'_>)> = Vec::new();
    for t in &plan.trains {
        units.push((
            format!("train {} run {}", t.model, t.run),
            t.cost(t.images(train_available)),
            cache.is_trained(t),
            Box::new(|| cache.train(t, &mnist.train).map(drop)),
        ));
    }
    for e in &plan.evals {
        units.push((
            format!("{} run {}: {:?}", e.model.model, e.model.run, e.attack),
            e.cost(),
            Results::eval(&cache, e).is_some(),
            Box::new(|| cache.eval(e, &mnist.test).map(drop)),
        ));
    }
    for t in &plan.transfers {
        units.push((
            format!("transfer from {} run {}", t.source.model, t.source.run),
            t.cost(),
            Results::transfer(&cache, t).is_some(),
            Box::new(|| cache.transfer(t, &mnist.test).map(drop)),
        ));
    }
    for c in &plan.cleans {
        units.push((
            format!("clean passes {} run {}", c.model.model, c.model.run),
            c.cost(),
            Results::clean(&cache, c).is_some(),
            Box::new(|| cache.clean(c, &mnist.test).map(drop)),
        ));
    }
    for m in &plan.maskings {
        units.push((
            format!("masking check {} run {}", m.model.model, m.model.run),
            m.cost(),
            Results::masking(&cache, m).is_some(),
            Box::new(|| cache.masking(m, &mnist.test).map(drop)),
        ));
    }
    for a in &plan.accuracies {
        units.push((
            format!(
                "accuracy {} run {} ({:?})",
                a.model.model, a.model.run, a.split
            ),
            a.cost(a.images(train_available, test_available)),
            Results::accuracy(&cache, a).is_some(),
            Box::new(|| cache.accuracy(a, &mnist.train, &mnist.test).map(drop)),
        ));
    }
    for x in &plan.examples {
        units.push((
            format!(
                "examples {} run {}: {:?}",
                x.model.model, x.model.run, x.attack
            ),
            x.cost(),
            Results::examples(&cache, x).is_some(),
            Box::new(|| cache.examples(x, &mnist.test).map(drop)),
        ));
    }
    for g in &plan.gates {
        units.push((
            format!("gates {} run {}", g.model.model, g.model.run),
            g.cost(),
            Results::gates(&cache, g).is_some(),
            Box::new(|| cache.gates(g, &mnist.test).map(drop)),
        ));
    }
    for g in &plan.gradients {
        units.push((
            format!("input gradients {} run {}", g.model.model, g.model.run),
            g.cost(),
            Results::gradients(&cache, g).is_some(),
            Box::new(|| cache.gradients(g, &mnist.test).map(drop)),
        ));
    }
    for t in &plan.toys {
        units.push((
            format!("toy {} run {}", t.model, t.run),
            t.cost(),
            Results::toy(&cache, t).is_some(),
            Box::new(|| cache.toy(t).map(drop)),
        ));
    }
    for t in &plan.tsnes {
        units.push((
            format!(
                "t-SNE of {}",
                t.source.as_ref().map_or("clean images".into(), |s| format!(
                    "{} run {} examples",
                    s.model, s.run
                ))
            ),
            t.cost(),
            Results::tsne(&cache, t).is_some(),
            Box::new(|| cache.tsne(t, &mnist.test).map(drop)),
        ));
    }
    // A fold from +0.0: an empty `sum` of f64 is −0.0, which prints "-0".
    let todo: f64 = units
        .iter()
        .filter(|u| !u.2)
        .fold(0.0, |total, u| total + u.1);
    println!(
        "plan: {} training runs, {} white-box evaluations, {} transfer sets, {} clean checks, {} masking checks, {} clean accuracies, {} example sets, {} gate measurements, {} gradient measurements, {} toy runs, {} t-SNE embeddings ({:.0} GFLOP left to compute)",
        plan.trains.len(),
        plan.evals.len(),
        plan.transfers.len(),
        plan.cleans.len(),
        plan.maskings.len(),
        plan.accuracies.len(),
        plan.examples.len(),
        plan.gates.len(),
        plan.gradients.len(),
        plan.toys.len(),
        plan.tsnes.len(),
        todo
    );
    let bar = ProgressBar::new(todo.ceil().max(1.0) as u64).with_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30} {percent:>3}% (by FLOPs) eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for (label, cost, done, work) in &units {
        if *done {
            // Loaded from the cache when the report is written.
            continue;
        }
        bar.set_message(label.clone());
        if bar.is_hidden() {
            tracing::info!(stage = %label, done_pct = 100 * bar.position() / bar.length().unwrap_or(1).max(1), eta_s = bar.eta().as_secs(), "stage");
        }
        work()?;
        bar.inc(cost.ceil() as u64);
    }
    bar.finish_and_clear();
    let path = report::write(&report::ReportFiles {
        profile: &profile,
        experiments: &experiments,
        cache: &cache,
        out: &out,
        data: &data,
        root: &workspace_root(),
        only: &args.selection.only,
    })?;
    println!(
        "report: {} ({:.0} s)",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let experiments = select(&args.selection.only, args.selection.profile == "full")?;
    let (profile, _, data, out) = setup(&args.selection)?;
    let cache = Cache::open(&out.join("cache"), crate::compute_device()?)?;
    let path = report::write(&report::ReportFiles {
        profile: &profile,
        experiments: &experiments,
        cache: &cache,
        out: &out,
        data: &data,
        root: &workspace_root(),
        only: &args.selection.only,
    })?;
    println!("report: {}", path.display());
    Ok(())
}
