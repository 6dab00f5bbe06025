//! `cargo xtask bench`: run the criterion benchmarks of `sgbn-bench`, add
//! analytic FLOP counts, achieved GFLOP/s and the ratio to a 2048³ f32
//! matmul measured in the same run; a table on stdout, JSON with `--out`.
//!
//! The matmul runs before the first workload and after every workload
//! (`benches/steps.rs`). Each workload's ratio is taken against the mean
//! rate of the two matmuls around it (the machine's speed drifts within a
//! run, by up to 1.6× between the start and the end on the 2-core machines),
//! and also, more conservatively, against the fastest matmul of the run.
//!
//! After criterion has measured a workload, the same binary runs it in seven
//! paired rounds (`sgbn_bench::paired_rounds`: matmul ×3, workload for 0.4 s
//! and at least 3 times, matmul ×3, …) and writes them to
//! `criterion/paired.json` in the target directory; the **× paired** column
//! is the median over the rounds of the workload's rate (its fastest
//! iteration in the round) divided by the mean rate of the fastest matmuls
//! just before and after it, with the lowest and highest round beside it.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use sgbn_models::{ModelSpec, write_atomic};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Write bench.json into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only report (do not run) the benchmarks: read criterion's last
    /// results from the target directory.
    #[arg(long)]
    report_only: bool,
    /// Skip the short SGBN training run that measures peak resident memory.
    #[arg(long)]
    no_memory: bool,
    /// Instead of the criterion benchmarks, compare with the same workloads
    /// in PyTorch (`bench/pytorch/`), interleaved in one run (needs
    /// python3 with torch); writes bench-pytorch.json with `--out`.
    #[arg(long, value_enum)]
    against: Option<Against>,
    /// A short run of everything (0.3 s per workload, 2 paired rounds),
    /// to check the bench end to end (CI runs it); its numbers are not for
    /// reporting.
    #[arg(long)]
    quick: bool,
    /// Interleaved rounds per workload with `--against`.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// With `--against`: only these workloads (comma-separated, e.g.
    /// `apgd_ce-sgbn`, `fgsm-cnn`; default all).
    #[arg(long, value_delimiter = ',')]
    workload: Vec<String>,
}

/// What `--against` compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Against {
    /// PyTorch on the CPU, 2 threads.
    Pytorch,
}

struct Entry {
    group: &'static str,
    id: &'static str,
    what: String,
    flops: Option<u64>,
}

fn entries() -> anyhow::Result<Vec<Entry>> {
    let mut v = Vec::new();
    for model in ["cnn", "cnn-bin", "sgbn"] {
        let spec = ModelSpec::named(model)?;
        v.push(Entry {
            group: "train_step_b50",
            id: model,
            what: format!("{} training step, batch 50", spec.name),
            flops: Some(spec.training_step_flops(50)),
        });
    }
    for model in ["cnn", "cnn-bin", "sgbn"] {
        let spec = ModelSpec::named(model)?;
        v.push(Entry {
            group: "fgsm_b500",
            id: model,
            what: format!("FGSM on {}, batch 500", spec.name),
            flops: Some(spec.fgsm_flops(500)),
        });
    }
    v.push(Entry {
        group: "kernel",
        id: "masked_conv2_b50",
        what: "masked conv 32→64 5×5/2 on 12², batch 50, fwd+bwd".into(),
        flops: Some(3 * 2 * 50 * 64 * 800 * 16),
    });
    v.push(Entry {
        group: "kernel",
        id: "gate_dense_b50",
        what: "gate dense 512→51,200, batch 50, fwd+bwd".into(),
        flops: Some(3 * 2 * 50 * 512 * 51_200),
    });
    v.push(Entry {
        group: "kernel",
        id: "adam_26m",
        what: "Adam step, 26.2 M parameters".into(),
        flops: None,
    });
    v.push(Entry {
        group: "kernel",
        id: "axpy_26m",
        what: "memory: a += 3b in place, 26.2 M f32".into(),
        flops: None,
    });
    Ok(v)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Median time of one iteration in seconds, from criterion's estimates.
fn median_seconds(group: &str, id: &str) -> anyhow::Result<f64> {
    let path = target_dir()
        .join("criterion")
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (run the benchmarks first)", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns * 1e-9)
        .with_context(|| format!("no median in {}", path.display()))
}

fn paired_path() -> PathBuf {
    target_dir().join("criterion").join("paired.json")
}

/// Per-round ratios of workload `group/id` to the matmuls around it, from
/// the paired rounds of the last bench run.
fn paired_ratios(
    paired: &serde_json::Value,
    group: &str,
    id: &str,
    flops: f64,
    matmul_flops: f64,
) -> anyhow::Result<Vec<f64>> {
    let name = format!("{group}/{id}");
    let rounds = paired["rounds"][&name]
        .as_array()
        .with_context(|| format!("{}: no paired rounds for {name}", paired_path().display()))?;
    rounds
        .iter()
        .map(|r| {
            let field = |k: &str| {
                r[k].as_f64()
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .with_context(|| format!("{name}: bad {k} in {}", paired_path().display()))
            };
            Ok(sgbn_bench::PairedRound {
                workload_seconds: field("workload_seconds")?,
                matmul_before_seconds: field("matmul_before_seconds")?,
                matmul_after_seconds: field("matmul_after_seconds")?,
            }
            .ratio(flops, matmul_flops))
        })
        .collect()
}

/// Peak resident memory of a short SGBN training run (VmHWM of the child).
fn sgbn_peak_rss() -> anyhow::Result<f64> {
    let dir = std::env::temp_dir().join(format!("sgbn-bench-{}", std::process::id()));
    let exe = std::env::current_exe()?;
    let status = Command::new(exe)
        .args([
            "train",
            "--model",
            "sgbn",
            "--epochs",
            "1",
            "--train-size",
            "500",
        ])
        .arg("--out")
        .arg(&dir)
        .status()
        .context("running the SGBN training run")?;
    if !status.success() {
        bail!("the SGBN training run failed ({status})");
    }
    // `train` writes its peak memory with the timings (timings.json), not
    // with the numbers of metrics.json.
    let timings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("timings.json"))?)?;
    let _ = std::fs::remove_dir_all(&dir);
    timings["peak_rss_bytes"]
        .as_f64()
        .context("timings.json has no peak_rss_bytes (not Linux?)")
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if let Some(Against::Pytorch) = args.against {
        return crate::bench_pytorch::run(
            &workspace_root(),
            args.rounds,
            &args.workload,
            args.out.as_deref(),
        );
    }
    if !args.report_only {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            // `--workspace`, not `-p sgbn-bench`: the features are then
            // those of `cargo test --workspace --release`, whose build of
            // candle is reused instead of a second one.
            .args(["bench", "--workspace", "--bench", "steps"])
            .env("SGBN_PAIRED_OUT", paired_path())
            .env("SGBN_BENCH_QUICK", if args.quick { "1" } else { "0" })
            .status()
            .context("running cargo bench")?;
        if !status.success() {
            bail!("cargo bench failed ({status})");
        }
    }
    let entries = entries()?;
    let matmul_flops = 2.0 * 2048f64.powi(3);
    // Matmul `i` ran just before workload `i`; matmul `entries.len()` after
    // the last one.
    let matmul_rates = (0..=entries.len())
        .map(|i| Ok(matmul_flops / median_seconds("matmul", &format!("2048_{i}"))?))
        .collect::<anyhow::Result<Vec<f64>>>()?;
    let best_rate = matmul_rates.iter().copied().fold(0.0, f64::max);
    let paired_text = std::fs::read_to_string(paired_path()).with_context(|| {
        format!(
            "reading {} (run the benchmarks first)",
            paired_path().display()
        )
    })?;
    let paired: serde_json::Value = serde_json::from_str(&paired_text)
        .with_context(|| format!("parsing {}", paired_path().display()))?;
    let mut rows = Vec::new();
    println!(
        "| {:<52} | {:>9} | {:>7} | {:>8} | {:>14} | {:>11} | {:>11} | {:>10} | {:>15} |",
        "workload",
        "ms",
        "GFLOP",
        "GFLOP/s",
        "matmul around",
        "× around",
        "× best",
        "× paired",
        "paired range"
    );
    println!(
        "|{:-<54}|{:-<11}|{:-<9}|{:-<10}|{:-<16}|{:-<13}|{:-<13}|{:-<12}|{:-<17}|",
        "", "", "", "", "", "", "", "", ""
    );
    for (i, e) in entries.iter().enumerate() {
        let s = median_seconds(e.group, e.id)?;
        let around = 0.5 * (matmul_rates[i] + matmul_rates[i + 1]);
        let gflop = e.flops.map(|f| f as f64 / 1e9);
        let rate = e.flops.map(|f| f as f64 / s);
        let ratio = rate.map(|r| r / around);
        let ratio_best = rate.map(|r| r / best_rate);
        let paired_ratios = e
            .flops
            .map(|f| paired_ratios(&paired, e.group, e.id, f as f64, matmul_flops))
            .transpose()?;
        let paired_median = paired_ratios.as_deref().and_then(sgbn_bench::median);
        let paired_range = paired_ratios.as_deref().map(|r| {
            let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        });
        let percent = |r: Option<f64>| r.map_or("-".into(), |r| format!("{:.1} %", 100.0 * r));
        println!(
            "| {:<52} | {:>9.2} | {:>7} | {:>8} | {:>14.1} | {:>11} | {:>11} | {:>10} | {:>15} |",
            e.what,
            s * 1e3,
            gflop.map_or("-".into(), |g| format!("{g:.3}")),
            rate.map_or("-".into(), |r| format!("{:.1}", r / 1e9)),
            around / 1e9,
            percent(ratio),
            percent(ratio_best),
            percent(paired_median),
            paired_range.map_or("-".into(), |(lo, hi)| format!(
                "{:.1}–{:.1} %",
                100.0 * lo,
                100.0 * hi
            )),
        );
        rows.push(serde_json::json!({
            "group": e.group, "id": e.id, "workload": e.what,
            "median_seconds": s, "gflop": gflop,
            "gflop_per_s": rate.map(|r| r / 1e9),
            "matmul_before_gflop_per_s": matmul_rates[i] / 1e9,
            "matmul_after_gflop_per_s": matmul_rates[i + 1] / 1e9,
            "ratio_to_matmul": ratio,
            "ratio_to_best_matmul": ratio_best,
            "paired_ratios": paired_ratios,
            "paired_ratio_median": paired_median,
        }));
    }
    // Adam against the machine's memory rate: both move memory, and
    // neither is bound by arithmetic.
    let adam_s = median_seconds("kernel", "adam_26m")?;
    let axpy_s = median_seconds("kernel", "axpy_26m")?;
    let adam_gbs = (sgbn_bench::ADAM_BYTES_PER_PARAMETER * 26_214_400) as f64 / adam_s / 1e9;
    let axpy_gbs = (sgbn_bench::AXPY_BYTES_PER_ELEMENT * 26_214_400) as f64 / axpy_s / 1e9;
    println!(
        "memory: Adam moves {adam_gbs:.1} GB/s ({} B a parameter), the in-place a += 3b {axpy_gbs:.1} GB/s ({} B an element): Adam at {:.0} % of the machine's memory rate",
        sgbn_bench::ADAM_BYTES_PER_PARAMETER,
        sgbn_bench::AXPY_BYTES_PER_ELEMENT,
        100.0 * adam_gbs / axpy_gbs
    );
    let shown: Vec<String> = matmul_rates
        .iter()
        .map(|r| format!("{:.0}", r / 1e9))
        .collect();
    println!(
        "2048³ f32 matmul, GFLOP/s, before each workload and after the last: {}; best {:.1}",
        shown.join(", "),
        best_rate / 1e9
    );
    if args.quick {
        println!("--quick: a short run that checks the bench end to end; not numbers to report");
    }
    let peak = if args.no_memory {
        None
    } else {
        let p = sgbn_peak_rss()?;
        println!(
            "peak resident memory of an SGBN training run (batch 50): {:.2} GB",
            p / 1e9
        );
        Some(p)
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = serde_json::json!({
            "matmul_gflop_per_s": matmul_rates.iter().map(|r| r / 1e9).collect::<Vec<_>>(),
            "best_matmul_gflop_per_s": best_rate / 1e9,
            "memory": {
                "adam_gb_per_s": adam_gbs,
                "axpy_gb_per_s": axpy_gbs,
                "adam_share_of_axpy": adam_gbs / axpy_gbs,
            },
            "rows": rows,
            "sgbn_training_peak_rss_bytes": peak,
            "threads": std::thread::available_parallelism().map(|n| n.get()).ok(),
            "quick": args.quick,
        });
        let path = dir.join("bench.json");
        write_atomic(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        println!("results: {}", path.display());
    }
    Ok(())
}
