//! `cargo xtask reproduce`, `cargo xtask report` and `cargo xtask
//! archive`: the command line, the run over the plan with its progress bar,
//! the cache on disk ([`cache`]), the files of the report ([`mod@report`];
//! the figures are drawn by `sgbn_eval::draw`), and the archive of finished
//! results ([`mod@archive`]). The experiments, profiles and the evaluation
//! protocol are `sgbn-eval`'s. See docs/reproduction.md.

mod archive;
mod cache;
mod claim;

mod report;

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sgbn_data::{
    Cifar10Data, Cifar10Kind, Dataset, Mnist, load_cifar10_for, load_mnist, resolve_mnist_dir,
};
use sgbn_eval::{DataSource, Results};

use sgbn_eval::{
    CifarInputs, Experiment, Plan, PlanContext, Profile, available, experiments::select, is_cifar10,
};
use sgbn_models::ModelSpec;

use self::report::FewerResults;

pub use self::archive::{ArchiveArgs, archive};
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
    /// Override the profile's number of runs (1 to 1000).
    #[arg(long)]
    runs: Option<usize>,
    /// MNIST directory (default: $SGBN_DATA_DIR, then the vendored copy).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Output directory (default: `results/<profile>`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The most runs `--runs` accepts: far above the thesis's 30, far below a
/// plan that would exhaust memory before printing.
const MAX_RUNS: usize = 1000;

/// Arguments of `cargo xtask reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    #[command(flatten)]
    selection: Selection,
    /// List the experiments and the profile's sizes, and stop.
    #[arg(long)]
    list: bool,
    /// Write the plan (every unit of work: its claim name and cache key,
    /// the training runs it needs, its cost; with `--shard`, each unit's
    /// shard) to `plan.json` in the output folder, print a count per stage,
    /// and stop. docs/cluster.md.
    #[arg(long)]
    plan: bool,
    /// Run only shard K of N (`K/N`, 0 ≤ K < N) of the units, into the same
    /// cache as the other shards; `cargo xtask report` then writes the
    /// report from the merged cache. docs/cluster.md.
    #[arg(long)]
    shard: Option<sgbn_eval::Shard>,
}

/// Arguments of `cargo xtask report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    selection: Selection,
    /// Replace an existing report even when the new one holds fewer
    /// results (by default that is refused and the old report kept).
    #[arg(long)]
    allow_fewer: bool,
}

/// Every unit of work of `plan` in run order (training first: evaluations
/// need the models), with its cost in GFLOP for the progress bar's ETA and
/// whether the cache holds it already.
fn build_units<'a>(
    plan: &'a Plan,
    cache: &'a Cache,
    datasets: &'a Datasets,
) -> anyhow::Result<Vec<Unit<'a>>> {
    let mut units: Vec<Unit<'_>> = Vec::new();
    for t in &plan.trains {
        let mut unit = Unit::new(
            "train",
            format!("train {} run {}", t.model, t.run),
            t,
            t.cost(t.images(datasets.train_for(&t.spec)?.len())),
            t.base.as_deref().into_iter().collect(),
            move || cache.is_trained(t),
            || cache.train(t, datasets.train_for(&t.spec)?).map(drop),
        )?;
        unit.model = t.model.clone();
        unit.seconds = Results::trained(cache, t).map(|r| r.seconds);
        units.push(unit);
    }
    for p in &plan.work {
        let held = cache.held(p);
        let needs = p.work.needs();
        units.push(Unit {
            kind: p.work.kind(),
            label: p.work.label(),
            claim: p.claim(),
            cost: p.work.cost(datasets)?,
            done: held.is_some(),
            seconds: held.and_then(|v| v["seconds"].as_f64()),
            model: needs.first().map_or_else(
                || {
                    p.work
                        .stem()
                        .split("-run")
                        .next()
                        .unwrap_or_default()
                        .to_string()
                },
                |t| t.model.clone(),
            ),
            is_done: Box::new(move || cache.holds(p)),
            needs,
            work: Box::new(move || cache.compute(p, datasets)),
        });
    }
    Ok(units)
}

/// "N training runs, N white-box evaluations, …": the plan's units by
/// kind, in the order the kinds first occur.
fn plan_counts(plan: &Plan) -> String {
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for p in &plan.work {
        match kinds.iter_mut().find(|(noun, _)| *noun == p.work.noun()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((p.work.noun(), 1)),
        }
    }
    std::iter::once(format!("{} training runs", plan.trains.len()))
        .chain(kinds.iter().map(|(noun, n)| format!("{n} {noun}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn workspace_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Profile, data, data checksums (file, sha256) and output directory.
type Setup = (Profile, Datasets, Vec<(String, String)>, PathBuf);

/// The data sets of a run: MNIST always, CIFAR-10 where the selection
/// trains `cifar10-` models.
pub struct Datasets {
    /// MNIST.
    pub mnist: Mnist,
    /// CIFAR-10 (official or the lossy JPEG stand-in).
    pub cifar: Option<Cifar10Data>,
    /// What the plan and the report need to know of it.
    pub cifar_inputs: Option<CifarInputs>,
}

impl Datasets {
    fn cifar(&self) -> sgbn_eval::Result<&Cifar10Data> {
        self.cifar.as_ref().ok_or_else(|| {
            sgbn_eval::EvalError::InvalidConfig(
                "a CIFAR-10 model in the plan, but no CIFAR-10 was loaded".into(),
            )
        })
    }
}

impl sgbn_eval::DataSource for Datasets {
    fn train_for(&self, spec: &ModelSpec) -> sgbn_eval::Result<&Dataset> {
        Ok(if is_cifar10(spec) {
            &self.cifar()?.data.train
        } else {
            &self.mnist.train
        })
    }

    fn test_for(&self, spec: &ModelSpec) -> sgbn_eval::Result<&Dataset> {
        Ok(if is_cifar10(spec) {
            &self.cifar()?.data.test
        } else {
            &self.mnist.test
        })
    }

    fn mnist_test(&self) -> &Dataset {
        &self.mnist.test
    }
}

fn setup(sel: &Selection, experiments: &[&'static dyn Experiment]) -> anyhow::Result<Setup> {
    let mut profile = Profile::named(&sel.profile)?;
    if let Some(r) = sel.runs {
        anyhow::ensure!(
            (1..=MAX_RUNS).contains(&r),
            "--runs must be in 1..={MAX_RUNS} (got {r}): the thesis uses at most 30 runs of a \
             setting, and every run multiplies the plan"
        );
        profile.runs = r;
        profile.adaptive_runs = profile.adaptive_runs.min(r);
        profile.ch3_runs = r;
        profile.baseline_runs = r;
    }
    let dir = resolve_mnist_dir(sel.data_dir.as_deref());
    let mnist =
        load_mnist(&dir).with_context(|| format!("loading MNIST from {}", dir.display()))?;
    let cifar = if experiments.iter().any(|e| e.info().on_cifar10()) {
        let c = load_cifar10_for(sel.data_dir.as_deref()).context("loading CIFAR-10")?;
        println!("CIFAR-10: {} from {}", c.kind.label(), c.source.display());
        Some(c)
    } else {
        None
    };
    let cifar_inputs = cifar.as_ref().map(|c| CifarInputs {
        sha256: c.sha256.clone(),
        stand_in: c.kind == Cifar10Kind::JpegStandIn,
    });
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
    let datasets = Datasets {
        mnist,
        cifar,
        cifar_inputs,
    };
    Ok((profile, datasets, data, out))
}

/// One unit of work of the plan.
struct Unit<'a> {
    /// The stage: train, eval, transfer, clean, ….
    kind: &'static str,
    /// What the progress line says.
    label: String,
    /// The name of its claim file (kind and key hash).
    claim: String,
    /// Cost in GFLOP, for the ETA.
    cost: f64,
    /// Whether the cache held it when the run started.
    done: bool,
    /// The model it trains or measures (the first it needs).
    model: String,
    /// The wall time its cached result records, seconds.
    seconds: Option<f64>,
    /// Whether the cache holds it now (another process may have made it).
    is_done: Box<dyn Fn() -> bool + 'a>,
    /// The training runs it needs finished first.
    needs: Vec<&'a sgbn_eval::TrainJob>,
    /// Computes and stores it.
    work: Box<dyn Fn() -> anyhow::Result<()> + 'a>,
}

impl<'a> Unit<'a> {
    /// The unit of kind `kind` for the job `key` (its claim name is the kind
    /// and the job's key hash); `is_done` says whether the cache holds its
    /// result, `work` computes and stores it.
    #[allow(clippy::too_many_arguments)]
    fn new(
        kind: &'static str,
        label: String,
        key: &impl serde::Serialize,
        cost: f64,
        needs: Vec<&'a sgbn_eval::TrainJob>,
        is_done: impl Fn() -> bool + 'a,
        work: impl Fn() -> anyhow::Result<()> + 'a,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            kind,
            label,
            claim: format!("{kind}-{}", sgbn_eval::key_hash(key)?),
            cost,
            done: is_done(),
            model: String::new(),
            seconds: None,
            is_done: Box::new(is_done),
            needs,
            work: Box::new(work),
        })
    }
}

/// Runs every unit the cache lacks, in order, each under a claim
/// ([`claim`]): a unit another live process holds is skipped for now and
/// its result taken from the cache when that process is done; a unit whose
/// training runs are not finished waits for them. When nothing can start,
/// the loop polls every 2 s.
fn run_units(
    units: &[&Unit<'_>],
    cache: &Cache,
    plan: &Plan,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let in_plan: std::collections::HashSet<String> = plan
        .trains
        .iter()
        .filter_map(|t| sgbn_eval::key_hash(t).ok())
        .collect();
    let ready = |u: &Unit<'_>| {
        u.needs.iter().all(|d| {
            // A run outside the plan (a probe's base) is trained by the
            // unit itself.
            cache.is_trained(d) || sgbn_eval::key_hash(*d).is_ok_and(|k| !in_plan.contains(&k))
        })
    };
    let claims = cache.root().join("claims");
    let stale = claim::stale_after()?;
    // Units whose trainings are done come before trainings, and the scan
    // starts again after each finished unit: a model's evaluations (minutes)
    // run as soon as it is trained, before the next training (hours), so
    // the first cells of a table arrive early. The order changes no result.
    let mut pending: Vec<&Unit<'_>> = units.iter().copied().filter(|u| !u.done).collect();
    pending.sort_by_key(|u| u.kind == "train");
    let mut last_wait_log = None::<Instant>;
    while !pending.is_empty() {
        let mut progressed = false;
        let mut busy = Vec::new();
        let mut still = Vec::new();
        let mut queue = pending.into_iter();
        while let Some(u) = queue.next() {
            if !ready(u) {
                still.push(u);
                continue;
            }
            if (u.is_done)() {
                bar.inc(u.cost.ceil() as u64);
                progressed = true;
                continue;
            }
            match claim::try_claim(&claims, &u.claim, stale)? {
                claim::Claimed::Busy(holder) => {
                    busy.push(format!(
                        "{} (host {}, pid {})",
                        u.label, holder.host, holder.pid
                    ));
                    still.push(u);
                }
                claim::Claimed::Mine(held) => {
                    // Made by another process between the check and the claim?
                    if !(u.is_done)() {
                        bar.set_message(u.label.clone());
                        if bar.is_hidden() {
                            tracing::info!(stage = %u.label, unit = %u.claim, done_pct = 100 * bar.position() / bar.length().unwrap_or(1).max(1), eta_s = bar.eta().as_secs(), "stage");
                        }
                        (u.work)()?;
                    }
                    drop(held);
                    bar.inc(u.cost.ceil() as u64);
                    progressed = true;
                    still.extend(queue.by_ref());
                }
            }
        }
        pending = still;
        pending.sort_by_key(|u| u.kind == "train");
        if !progressed && !pending.is_empty() {
            if last_wait_log.is_none_or(|t| t.elapsed().as_secs() >= 60) {
                tracing::info!(
                    waiting = pending.len(),
                    held_elsewhere = %busy.join("; "),
                    "waiting for units another process holds"
                );
                last_wait_log = Some(Instant::now());
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// The claim names of the training runs a unit needs.
fn needs_claims(u: &Unit<'_>) -> anyhow::Result<Vec<String>> {
    u.needs
        .iter()
        .map(|d| Ok(format!("train-{}", sgbn_eval::key_hash(*d)?)))
        .collect()
}

/// The shard of each unit: a unit goes with the training run it needs
/// first (its model; a transfer set's source), a training run with
/// itself, so a model and its evaluations share a shard
/// ([`sgbn_eval::assign_shards`]).
fn shard_of_units(units: &[Unit<'_>], count: usize) -> anyhow::Result<Vec<usize>> {
    let groups: Vec<String> = units
        .iter()
        .map(|u| {
            Ok(match u.kind {
                "train" => u.claim.clone(),
                _ => needs_claims(u)?
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| u.claim.clone()),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let weighted: Vec<(&str, f64)> = groups
        .iter()
        .zip(units)
        .map(|(g, u)| (g.as_str(), u.cost))
        .collect();
    Ok(sgbn_eval::assign_shards(&weighted, count))
}

/// The units of shard `index`, with the training runs they need from other
/// shards: a needed run that no process holds is trained here (its claim
/// keeps it from being trained twice), one that another shard holds is
/// waited for.
fn units_of_shard<'u, 'a>(
    units: &'u [Unit<'a>],
    shards: &[usize],
    index: usize,
) -> anyhow::Result<Vec<&'u Unit<'a>>> {
    let mut wanted: std::collections::HashSet<String> = units
        .iter()
        .zip(shards)
        .filter(|(_, k)| **k == index)
        .map(|(u, _)| u.claim.clone())
        .collect();
    // Needs of needs (a gate probe's base), until nothing is added.
    loop {
        let mut added = false;
        let mut more = Vec::new();
        for u in units.iter().filter(|u| wanted.contains(&u.claim)) {
            more.extend(needs_claims(u)?);
        }
        for c in more {
            added |= wanted.insert(c);
        }
        if !added {
            break;
        }
    }
    Ok(units.iter().filter(|u| wanted.contains(&u.claim)).collect())
}

/// Where the time goes, by `group` (stage or model): units, cached units,
/// GFLOP, the seconds the cached results record, and the seconds left at
/// the rate (s per GFLOP) the group's cached units of the same stage ran
/// at (the stage's rate where the group has none; "?" where no unit of the
/// stage is cached).
fn time_table(title: &str, units: &[Unit<'_>], group: impl Fn(&Unit<'_>) -> String) -> String {
    use std::collections::BTreeMap;
    // Seconds per GFLOP of each stage, and of each stage in each group,
    // from the cached units.
    let mut rate: BTreeMap<(&str, String), (f64, f64)> = BTreeMap::new();
    for u in units.iter().filter(|u| u.done) {
        if let Some(secs) = u.seconds {
            for key in [(u.kind, String::new()), (u.kind, group(u))] {
                let r = rate.entry(key).or_default();
                r.0 += secs;
                r.1 += u.cost;
            }
        }
    }
    let rate_of = |u: &Unit<'_>| {
        [(u.kind, group(u)), (u.kind, String::new())]
            .iter()
            .find_map(|k| rate.get(k).filter(|(_, gflop)| *gflop > 0.0))
            .map(|(secs, gflop)| secs / gflop)
    };
    #[derive(Default)]
    struct Row {
        n: usize,
        cached: usize,
        gflop: f64,
        measured: f64,
        left: f64,
        unknown: bool,
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for u in units {
        let row = rows.entry(group(u)).or_default();
        row.n += 1;
        row.gflop += u.cost;
        if u.done {
            row.cached += 1;
            row.measured += u.seconds.unwrap_or(0.0);
        } else {
            match rate_of(u) {
                Some(r) => row.left += u.cost * r,
                None => row.unknown = true,
            }
        }
    }
    let mut out = format!(
        "{title:<18} {:>6} {:>7} {:>12} {:>11} {:>13}\n",
        "units", "cached", "GFLOP", "measured s", "estimated s"
    );
    let (mut measured, mut left, mut unknown) = (0.0, 0.0, false);
    for (name, r) in &rows {
        out += &format!(
            "{name:<18} {:>6} {:>7} {:>12.0} {:>11.0} {:>12.0}{}\n",
            r.n,
            r.cached,
            r.gflop,
            r.measured,
            r.left,
            if r.unknown { "?" } else { " " }
        );
        measured += r.measured;
        left += r.left;
        unknown |= r.unknown;
    }
    out += &format!(
        "{:<18} {:>6} {:>7} {:>12.0} {:>11.0} {:>12.0}{}\n",
        "all",
        units.len(),
        units.iter().filter(|u| u.done).count(),
        units.iter().map(|u| u.cost).sum::<f64>(),
        measured,
        left,
        if unknown { "?" } else { " " }
    );
    out
}

/// `--plan`: `plan.json` (every unit, its needs, cost, shard and, when
/// cached, the seconds it took) and where the time goes by stage and by
/// model: the seconds the cached results record and an estimate of the
/// rest at each stage's measured rate.
fn write_plan(
    units: &[Unit<'_>],
    shards: &[usize],
    args: &ReproduceArgs,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let rows = units
        .iter()
        .zip(shards)
        .map(|(u, k)| {
            Ok(serde_json::json!({
                "claim": u.claim,
                "kind": u.kind,
                "label": u.label,
                "cost_gflop": u.cost,
                "needs": needs_claims(u)?,
                "cached": u.done,
                "seconds": u.seconds,
                "shard": args.shard.map(|_| *k),
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    print!("{}", time_table("stage", units, |u| u.kind.to_string()));
    println!();
    print!("{}", time_table("model", units, |u| u.model.clone()));
    if let Some(shard) = args.shard {
        for k in 0..shard.count {
            let (n, cost) = units
                .iter()
                .zip(shards)
                .filter(|(_, s)| **s == k)
                .fold((0, 0.0), |(n, c), (u, _)| (n + 1, c + u.cost));
            println!("shard {k}/{}: {n} units, {cost:.0} GFLOP", shard.count);
        }
    }
    let (_, json_stem) = report::stems(&args.selection.only);
    let path = out.join(format!("{}.json", json_stem.replacen("report", "plan", 1)));
    sgbn_models::write_atomic(
        &path,
        serde_json::to_string_pretty(&serde_json::json!({
            "profile": args.selection.profile,
            "only": args.selection.only,
            "shards": args.shard.map(|s| s.count),
            "units": rows,
        }))?
        .as_bytes(),
    )?;
    println!("plan: {}", path.display());
    Ok(())
}

pub fn reproduce(args: &ReproduceArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let experiments = select(&args.selection.only, args.selection.profile == "full")?;
    let (profile, datasets, data, out) = setup(&args.selection, &experiments)?;
    for line in profile.describe() {
        println!("{line}");
    }
    if args.list {
        // Without --only, every experiment, grouped by how to run it.
        let listed: Vec<&'static dyn sgbn_eval::Experiment> = if args.selection.only.is_empty() {
            sgbn_eval::experiments::all()
        } else {
            experiments.clone()
        };
        let group = |e: &dyn sgbn_eval::Experiment| -> &'static str {
            if sgbn_eval::experiments::in_group("ch3", e.id()) {
                "chapter 3 and Appendix A (`--only ch3`)"
            } else if e.info().on_cifar10() {
                "CIFAR-10 (`--only ID`; the official files or the lossy stand-in)"
            } else if e.in_default_set() {
                "the default set (`cargo xtask reproduce`)"
            } else {
                "outside the default set (`--only ID`, or `--profile full`)"
            }
        };
        let mut last = "";
        let mut sorted = listed.clone();
        sorted.sort_by_key(|e| {
            let g = group(*e);
            (
                [
                    "the default set (`cargo xtask reproduce`)",
                    "outside the default set (`--only ID`, or `--profile full`)",
                    "chapter 3 and Appendix A (`--only ch3`)",
                ]
                .iter()
                .position(|x| *x == g)
                .unwrap_or(3),
                listed.iter().position(|x| x.id() == e.id()),
            )
        });
        for e in &sorted {
            if args.selection.only.is_empty() && group(*e) != last {
                last = group(*e);
                println!("\n{last}:");
            }
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
            cifar: datasets.cifar_inputs.as_ref(),
        },
    )?;
    let units = build_units(&plan, &cache, &datasets)?;
    // A fold from +0.0: an empty `sum` of f64 is −0.0, which prints "-0".
    let todo: f64 = units
        .iter()
        .filter(|u| !u.done)
        .fold(0.0, |total, u| total + u.cost);
    println!(
        "plan: {} ({todo:.0} GFLOP left to compute)",
        plan_counts(&plan)
    );
    let bar = ProgressBar::new(todo.ceil().max(1.0) as u64).with_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30} {percent:>3}% (by FLOPs) eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shards = shard_of_units(&units, args.shard.map_or(1, |s| s.count))?;
    if args.plan {
        return write_plan(&units, &shards, args, &out);
    }
    let chosen: Vec<&Unit<'_>> = match args.shard {
        None => units.iter().collect(),
        Some(shard) => {
            let mine = units_of_shard(&units, &shards, shard.index)?;
            println!(
                "shard {shard}: {} of {} units ({} not yet in the cache)",
                mine.len(),
                units.len(),
                mine.iter().filter(|u| !u.done).count()
            );
            mine
        }
    };
    run_units(&chosen, &cache, &plan, &bar)?;
    if let Some(shard) = args.shard {
        println!(
            "shard {shard} done ({:.0} s); when every shard is done: cargo xtask report --profile {}{} --out {}",
            start.elapsed().as_secs_f64(),
            profile.name,
            if args.selection.only.is_empty() {
                String::new()
            } else {
                format!(" --only {}", args.selection.only.join(","))
            },
            out.display()
        );
        return Ok(());
    }
    bar.finish_and_clear();
    let path = report::write(&report::ReportFiles {
        plan: &plan,
        fewer: FewerResults::Warn,
        profile: &profile,
        experiments: &experiments,
        cache: &cache,
        out: &out,
        data: &data,
        cifar: datasets.cifar_inputs.as_ref(),
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
    let (profile, datasets, data, out) = setup(&args.selection, &experiments)?;
    let cache_dir = out.join("cache");
    anyhow::ensure!(
        cache_dir.is_dir(),
        "{} holds no results (no cache folder {}): run `cargo xtask reproduce --profile {} \
         --out {}` first; nothing was written",
        out.display(),
        cache_dir.display(),
        profile.name,
        out.display()
    );
    let cache = Cache::open(&cache_dir, crate::compute_device()?)?;
    let sums: Vec<String> = data.iter().map(|(_, s)| s.clone()).collect();
    let plan = Plan::build(
        &experiments,
        &PlanContext {
            profile: &profile,
            data: &sums,
            cifar: datasets.cifar_inputs.as_ref(),
        },
    )?;
    let units = build_units(&plan, &cache, &datasets)?;
    let (cached, total) = (units.iter().filter(|u| u.done).count(), units.len());
    anyhow::ensure!(
        cached > 0,
        "the cache {} holds none of the {total} results of profile {} for this selection \
         (was it made with another --profile, --runs or data?); nothing was written",
        cache_dir.display(),
        profile.name
    );
    if cached < total {
        tracing::warn!(
            cached,
            total,
            "the cache holds only part of the results: the report shows the rest as missing"
        );
    }
    let path = report::write(&report::ReportFiles {
        plan: &plan,
        fewer: if args.allow_fewer {
            FewerResults::Warn
        } else {
            FewerResults::Refuse
        },
        profile: &profile,
        experiments: &experiments,
        cache: &cache,
        out: &out,
        data: &data,
        cifar: datasets.cifar_inputs.as_ref(),
        root: &workspace_root(),
        only: &args.selection.only,
    })?;
    println!("report: {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::{Unit, run_units};

    #[test]
    fn the_time_table_sums_what_was_measured_and_estimates_the_rest_at_its_rate()
    -> anyhow::Result<()> {
        // (kind, model, GFLOP, seconds when cached)
        let rows = [
            ("eval", "cnn", 10.0, Some(5.0)),
            ("eval", "cnn", 20.0, None),
            ("eval", "sgbn", 10.0, Some(20.0)),
            ("eval", "sgbn", 30.0, None),
            ("train", "cnn", 100.0, None),
        ];
        let units: Vec<Unit<'_>> = rows
            .iter()
            .enumerate()
            .map(|(i, &(kind, model, cost, seconds))| {
                let mut u = Unit::new(
                    kind,
                    format!("{kind} {i}"),
                    &i,
                    cost,
                    Vec::new(),
                    move || seconds.is_some(),
                    || Ok(()),
                )?;
                u.model = model.into();
                u.seconds = seconds;
                Ok(u)
            })
            .collect::<anyhow::Result<_>>()?;
        let by_model = super::time_table("model", &units, |u| u.model.clone());
        let line = |name: &str| {
            by_model
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .expect("row")
        };
        // cnn: 5 s measured; its eval left at its own rate (0.5 s/GFLOP)
        // = 10 s, its training at no measured rate = "?".
        assert_eq!(line("cnn")[1..], ["3", "1", "130", "5", "10?"]);
        // sgbn: 20 s measured, 30 GFLOP left at 2 s/GFLOP = 60 s.
        assert_eq!(line("sgbn")[1..], ["2", "1", "40", "20", "60"]);
        let by_stage = super::time_table("stage", &units, |u| u.kind.to_string());
        let eval = by_stage
            .lines()
            .find(|l| l.starts_with("eval"))
            .expect("eval row");
        // The stage's own rate: 25 s over 20 GFLOP, so 50 GFLOP left = 62.5 s.
        assert_eq!(
            eval.split_whitespace().collect::<Vec<_>>()[1..],
            ["4", "2", "70", "25", "62"]
        );
        Ok(())
    }

    #[test]
    fn ready_evaluations_run_before_trainings_and_each_unit_once() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let cache = super::Cache::open(tmp.path(), candle_core::Device::Cpu)?;
        let ran = RefCell::new(Vec::new());
        let done = RefCell::new(std::collections::HashSet::new());
        let kinds = ["train", "eval", "train", "eval", "clean"];
        let units: Vec<Unit<'_>> = kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                let (ran, done) = (&ran, &done);
                Unit::new(
                    kind,
                    format!("{kind} {i}"),
                    &i,
                    1.0,
                    Vec::new(),
                    move || done.borrow().contains(&i),
                    move || {
                        ran.borrow_mut().push(format!("{kind} {i}"));
                        done.borrow_mut().insert(i);
                        Ok(())
                    },
                )
            })
            .collect::<anyhow::Result<_>>()?;
        let refs: Vec<&Unit<'_>> = units.iter().collect();
        run_units(
            &refs,
            &cache,
            &sgbn_eval::Plan::default(),
            &indicatif::ProgressBar::hidden(),
        )?;
        assert_eq!(
            *ran.borrow(),
            ["eval 1", "eval 3", "clean 4", "train 0", "train 2"]
        );
        Ok(())
    }
}
