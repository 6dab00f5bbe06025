//! `cargo xtask bench --against pytorch`: sgbn's workloads and the same
//! workloads in PyTorch (`bench/pytorch/worker.py`, built from the same
//! `ModelSpec` by `python/sgbn_torch`), measured in one invocation in
//! interleaved rounds: in each round sgbn runs k iterations, then PyTorch
//! runs k; the ratio of the round is sgbn's median iteration over PyTorch's,
//! and the table gives the median ratio over the rounds with its range, so
//! that the machine's drift hits both sides alike.

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    time::Instant,
};

use anyhow::{Context, bail};
use sgbn_models::{ModelSpec, write_atomic};

/// One workload of the comparison.
struct Workload {
    kind: &'static str,
    model: &'static str,
    batch: usize,
    /// Attack steps (APGD; 0 for the others).
    steps: usize,
    /// Fewest iterations per round (an APGD run of 100 steps takes minutes).
    min_iterations: usize,
}

const fn step(kind: &'static str, model: &'static str, batch: usize) -> Workload {
    Workload {
        kind,
        model,
        batch,
        steps: 0,
        min_iterations: 3,
    }
}

const WORKLOADS: [Workload; 8] = [
    step("train_step", "cnn", 50),
    step("train_step", "cnn-bin", 50),
    step("train_step", "ch3-cnn", 50),
    step("train_step", "mlp-ste", 50),
    step("fgsm", "cnn", 500),
    step("train_step", "sgbn", 50),
    step("fgsm", "sgbn", 500),
    // Issue 32: APGD-CE's whole attack against torchattacks' APGD.
    Workload {
        kind: "apgd_ce",
        model: "sgbn",
        batch: 500,
        steps: 100,
        min_iterations: 1,
    },
];

impl Workload {
    /// The workload's name, as `--workload` selects it.
    fn name(&self) -> String {
        format!("{}-{}", self.kind, self.model)
    }
}

/// The Python worker, one request per line.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(root: &Path) -> anyhow::Result<Self> {
        let probe = Command::new("python3")
            .args(["-c", "import torch; print(torch.__version__)"])
            .output();
        match probe {
            Ok(o) if o.status.success() => {}
            _ => bail!(
                "--against pytorch needs python3 with PyTorch (`pip install torch`); CI does not \
                 install it, and `cargo xtask bench` without the flag needs neither"
            ),
        }
        let mut child = Command::new("python3")
            .arg(root.join("bench/pytorch/worker.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting bench/pytorch/worker.py")?;
        let stdin = child.stdin.take().context("worker stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("worker stdout")?);
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// Seconds of each of `iterations` iterations of `w` in PyTorch.
    fn time(&mut self, w: &Workload, iterations: usize) -> anyhow::Result<Vec<f64>> {
        let request = serde_json::json!({
            "workload": w.kind,
            "spec": serde_json::to_value(ModelSpec::named(w.model)?)?,
            "batch": w.batch,
            "steps": w.steps,
            "iterations": iterations,
        });
        writeln!(self.stdin, "{request}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let reply: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("worker replied {line:?}"))?;
        if let Some(e) = reply["error"].as_str() {
            bail!("PyTorch {} {}: {e}", w.kind, w.model);
        }
        reply["seconds"]
            .as_array()
            .context("no seconds in the worker's reply")?
            .iter()
            .map(|v| v.as_f64().context("a time that is not a number"))
            .collect()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(v: Vec<f64>) -> f64 {
    sgbn_bench::median(&v).unwrap_or(f64::NAN)
}

/// Runs the comparison, `rounds` interleaved rounds per workload; prints a
/// table and writes `bench-pytorch.json` to `out`.
pub fn run(root: &Path, rounds: usize, only: &[String], out: Option<&Path>) -> anyhow::Result<()> {
    // Checked before the worker starts, so that it fails alike with or without torch.
    anyhow::ensure!(rounds >= 1, "--rounds must be ≥ 1 (got 0)");
    let names: Vec<String> = WORKLOADS.iter().map(Workload::name).collect();
    for o in only {
        anyhow::ensure!(
            names.contains(o),
            "--workload {o} is not one of {}",
            names.join(", ")
        );
    }
    let mut worker = Worker::start(root)?;
    let mut rows = Vec::new();
    println!(
        "| workload | sgbn ms | PyTorch ms | sgbn / PyTorch (median of {rounds} rounds) | range |"
    );
    println!("|---|---|---|---|---|");
    for w in WORKLOADS
        .iter()
        .filter(|w| only.is_empty() || only.contains(&w.name()))
    {
        let mut ours = match w.kind {
            "train_step" => sgbn_bench::train_step(w.model, w.batch),
            "apgd_ce" => sgbn_bench::apgd_ce(w.model, w.batch, w.steps),
            _ => sgbn_bench::fgsm(w.model, w.batch),
        }
        .map_err(|e| anyhow::anyhow!("{} {}: {e}", w.kind, w.model))?;
        // Warm-up, and k iterations per round of about a third of a second.
        let start = Instant::now();
        ours().map_err(|e| anyhow::anyhow!("{e}"))?;
        let once = start.elapsed().as_secs_f64();
        let k = ((0.3 / once).ceil() as usize).clamp(w.min_iterations, 50);
        worker.time(w, 1)?;
        let (mut ratios, mut ours_ms, mut theirs_ms) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let mut times = Vec::with_capacity(k);
            for _ in 0..k {
                let start = Instant::now();
                ours().map_err(|e| anyhow::anyhow!("{e}"))?;
                times.push(start.elapsed().as_secs_f64());
            }
            let a = median(times);
            let b = median(worker.time(w, k)?);
            ratios.push(a / b);
            ours_ms.push(1e3 * a);
            theirs_ms.push(1e3 * b);
        }
        let (ratio, lo, hi) = (
            median(ratios.clone()),
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
        );
        let what = match w.steps {
            0 => format!("{} {}, batch {}", w.kind, w.model, w.batch),
            s => format!("{} {}, {s} steps, batch {}", w.kind, w.model, w.batch),
        };
        println!(
            "| {what} | {:.2} | {:.2} | **{ratio:.2}** | {lo:.2}–{hi:.2} |",
            median(ours_ms.clone()),
            median(theirs_ms.clone())
        );
        rows.push(serde_json::json!({
            "workload": w.kind, "model": w.model, "batch": w.batch, "steps": w.steps,
            "iterations_per_round": k, "ratio_median": ratio, "ratios": ratios,
            "sgbn_ms": ours_ms, "pytorch_ms": theirs_ms,
        }));
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::json!({ "rounds": rounds, "threads": 2, "workloads": rows });
        let path = dir.join("bench-pytorch.json");
        write_atomic(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
