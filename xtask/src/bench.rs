//! `cargo xtask bench`: run the criterion benchmarks of `sgbn-bench`, add
//! analytic FLOP counts, achieved GFLOP/s and the ratio to a 2048³ f32
//! matmul measured in the same run; a table on stdout, JSON with `--out`.

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
}

struct Entry {
    group: &'static str,
    id: &'static str,
    what: String,
    flops: Option<u64>,
}

fn entries() -> anyhow::Result<Vec<Entry>> {
    let mut v = vec![Entry {
        group: "matmul",
        id: "2048",
        what: "2048³ f32 matmul (start of run)".into(),
        flops: Some(2 * 2048u64.pow(3)),
    }];
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
        group: "matmul",
        id: "2048_end",
        what: "2048³ f32 matmul (end of run)".into(),
        flops: Some(2 * 2048u64.pow(3)),
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
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json"))?)?;
    let _ = std::fs::remove_dir_all(&dir);
    metrics["peak_rss_bytes"]
        .as_f64()
        .context("metrics.json has no peak_rss_bytes (not Linux?)")
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if !args.report_only {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .args(["bench", "-p", "sgbn-bench", "--bench", "steps"])
            .status()
            .context("running cargo bench")?;
        if !status.success() {
            bail!("cargo bench failed ({status})");
        }
    }
    let entries = entries()?;
    let start = median_seconds("matmul", "2048")?;
    let end = median_seconds("matmul", "2048_end")?;
    let matmul_rate = 2.0 * 2048f64.powi(3) / start.min(end);
    let mut rows = Vec::new();
    println!(
        "| {:<52} | {:>10} | {:>9} | {:>8} | {:>14} |",
        "workload", "ms", "GFLOP", "GFLOP/s", "× matmul rate"
    );
    println!(
        "|{:-<54}|{:-<12}|{:-<11}|{:-<10}|{:-<16}|",
        "", "", "", "", ""
    );
    for e in &entries {
        let s = median_seconds(e.group, e.id)?;
        let gflop = e.flops.map(|f| f as f64 / 1e9);
        let rate = e.flops.map(|f| f as f64 / s);
        let ratio = rate.map(|r| r / matmul_rate);
        println!(
            "| {:<52} | {:>10.2} | {:>9} | {:>8} | {:>14} |",
            e.what,
            s * 1e3,
            gflop.map_or("-".into(), |g| format!("{g:.3}")),
            rate.map_or("-".into(), |r| format!("{:.1}", r / 1e9)),
            ratio.map_or("-".into(), |r| format!("{:.1} %", 100.0 * r)),
        );
        rows.push(serde_json::json!({
            "group": e.group, "id": e.id, "workload": e.what,
            "median_seconds": s, "gflop": gflop,
            "gflop_per_s": rate.map(|r| r / 1e9), "ratio_to_matmul": ratio,
        }));
    }
    println!(
        "matmul rate (best of start/end): {:.1} GFLOP/s; start {:.1}, end {:.1}",
        matmul_rate / 1e9,
        2.0 * 2048f64.powi(3) / start / 1e9,
        2.0 * 2048f64.powi(3) / end / 1e9
    );
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
            "matmul_gflop_per_s": matmul_rate / 1e9,
            "rows": rows,
            "sgbn_training_peak_rss_bytes": peak,
            "threads": std::thread::available_parallelism().map(|n| n.get()).ok(),
        });
        let path = dir.join("bench.json");
        write_atomic(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        println!("results: {}", path.display());
    }
    Ok(())
}
