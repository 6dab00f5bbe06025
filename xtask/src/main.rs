//! `cargo xtask`: the task runner of the sgbn workspace.
//!
//! It only orchestrates: every piece of logic lives in a library crate.
//! Commands available now:
//!
//! - `cargo xtask data [--data-dir D] [--cifar-jpeg DIR] [--cifar-binary DIR]`:
//!   load and verify the data sets, print what was found.
//!
//! `train`, `attack`, `eval`, `report`, `bench` and `reproduce` arrive with
//! their issues (see `docs/ARCHITECTURE.md`).

mod data;

use clap::{Parser, Subcommand};

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
}

fn main() -> anyhow::Result<()> {
    init_logging();
    match Cli::parse().command {
        Command::Data(args) => data::run(&args),
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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
