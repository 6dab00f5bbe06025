//! `cargo xtask`: the task runner of the sgbn workspace.
//!
//! It only orchestrates: every piece of logic lives in a library crate.
//! Commands available now:
//!
//! - `cargo xtask data [--data-dir D] [--cifar-jpeg DIR] [--cifar-binary DIR]`:
//!   load and verify the data sets, print what was found;
//! - `cargo xtask train --model M --epochs N --out DIR [--train-size K] …`:
//!   train one model, resumable, with a checkpoint and metrics JSON;
//! - `cargo xtask attack --checkpoint FILE --attack fgsm,bim,square --eps 0.1,0.2,0.3 …`:
//!   attack a checkpoint; a table on the terminal, JSON under `results/`.
//!
//! - `cargo xtask audit --checkpoint FILE | --pytorch FILE [--eps 0.3 …]`: the
//!   gradient-masking audit (docs/audit.md): `AUDIT.md`, `audit.json`, a figure;
//! - `cargo xtask export --checkpoint FILE --out DIR` / `cargo xtask import
//!   --file FILE --out DIR`: checkpoints to and from PyTorch (docs/interop.md);
//! - `cargo xtask bench [--out DIR]`: criterion benchmarks with FLOP rates.
//!
//! - `cargo xtask reproduce [--profile smoke|quick|full] [--only ID,…]`: the
//!   thesis's experiments, cached and resumable, and `results/<profile>/REPORT.md`;
//! - `cargo xtask report [--profile P]`: the report again, from the cache.

mod attack;
mod audit;
mod bench;
mod bench_pytorch;
mod data;
mod interop;
mod output;
mod reproduce;
#[cfg(test)]
mod tidy;
mod train;

use clap::{Parser, Subcommand};

/// Every candle op allocates a fresh tensor; with glibc each buffer over
/// 32 MB is a new mmap that pays page faults on first touch (the SGBN gate's
/// 26 M-weight layer makes many). mimalloc reuses them: measured on the 2-core
/// development machine (before the fast CPU paths), a gated training step at 1350–1400 ms with glibc and 580 ms with mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Task runner of the sgbn workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load and verify the data sets (checksums, shapes, labels).
    Data(data::DataArgs),
    /// Train one model (MNIST; CIFAR-10 for the cifar10- sizes); writes a checkpoint and metrics.json.
    Train(train::TrainArgs),
    /// Attack a trained checkpoint on the MNIST test set; prints a table and
    /// writes attack.json.
    Attack(attack::AttackArgs),
    /// Write a checkpoint in PyTorch's names and layouts for python/sgbn_torch
    /// (docs/interop.md), with a reference pass to check the twin against.
    Export(interop::ExportArgs),
    /// Read a PyTorch-layout file (from `export` or `sgbn_torch.save`) into an
    /// sgbn checkpoint.
    Import(interop::ImportArgs),
    /// Audit a classifier for gradient masking: every attack, the checklist
    /// of Athalye et al. (2018) and Carlini et al. (2019), one verdict.
    Audit(audit::AuditArgs),
    /// Run the benchmarks: ms per step, GFLOP/s, ratio to the matmul rate.
    Bench(bench::BenchArgs),
    /// Run the thesis's experiments (cached, resumable) and write the report.
    Reproduce(reproduce::ReproduceArgs),
    /// Regenerate `results/<profile>/REPORT.md` from the cache.
    Report(reproduce::ReportArgs),
    /// Save a cache's finished results (never checkpoints) as gzip files that
    /// git can carry, or restore them into a cache (docs/campaign.md).
    Archive(reproduce::ArchiveArgs),
}

/// Stack of rayon's worker threads, where every command runs: the default
/// 2 MiB is less than a main thread's 8 MiB.
const WORKER_STACK_BYTES: usize = 64 << 20;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", user_error(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// How a command's error is shown: its message and its causes, never a
/// backtrace. A user error (a bad value, a missing file) is not a bug;
/// `RUST_BACKTRACE=1`, set on some machines, would otherwise print 30
/// frames under every such message. Bugs panic, and the panic handler
/// still prints their backtrace.
fn user_error(e: &anyhow::Error) -> String {
    let mut text = format!("Error: {e}");
    let causes: Vec<String> = e.chain().skip(1).map(ToString::to_string).collect();
    if !causes.is_empty() {
        text.push_str("\n\nCaused by:");
        for (i, c) in causes.iter().enumerate() {
            text.push_str(&format!("\n    {i}: {c}"));
        }
    }
    text
}

fn run() -> anyhow::Result<()> {
    // Freed memory stays with the allocator (`sgbn_bench::keep_freed_memory`).
    sgbn_bench::keep_freed_memory();
    init_logging();
    let cli = Cli::parse();
    rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .build_global()?;
    // The whole command runs on a rayon worker, so that the parallel ops of
    // a training or attack step fork there instead of waking the pool from
    // outside once per op (`docs/performance.md`).
    sgbn_layers::on_worker_thread(move || match cli.command {
        Command::Data(args) => data::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Attack(args) => attack::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Export(args) => interop::export(&args),
        Command::Import(args) => interop::import(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Reproduce(args) => reproduce::reproduce(&args),
        Command::Report(args) => reproduce::report(&args),
        Command::Archive(args) => reproduce::archive(&args),
    })
}

/// Where models run: CUDA device 0 when built with `--features cuda`, the
/// CPU otherwise.
pub fn compute_device() -> anyhow::Result<candle_core::Device> {
    if cfg!(feature = "cuda") {
        Ok(candle_core::Device::new_cuda(0)?)
    } else {
        Ok(candle_core::Device::Cpu)
    }
}

/// Logs go to stderr through `tracing`; `SGBN_LOG` (or `RUST_LOG`) sets the
/// filter, `info` by default.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("SGBN_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
