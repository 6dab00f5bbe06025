//! What the command-line tests share: the built binary run as a user would
//! (from the workspace root, backtraces switched on so that a user error
//! that prints one is caught), with a time limit, and a tiny trained CNN.
#![allow(dead_code)] // each test file uses its own part

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

/// The built `xtask`, run from the workspace root as `cargo xtask` runs it,
/// with the environment a test must not inherit removed.
pub fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("RUST_BACKTRACE", "1")
        .env_remove("SGBN_DATA_DIR")
        .env_remove("SGBN_CLAIM_STALE_S");
    c
}

/// Runs `cmd`, killing it and failing the test after `limit` (some of the
/// bugs these tests guard against were hangs).
pub fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!("{cmd:?} still ran after {limit:?} (hung?):\n{}", text(&o));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `xtask ARGS` with a ten-minute limit.
pub fn run(args: &[&str]) -> Output {
    let mut c = xtask();
    c.args(args);
    output_within(c, Duration::from_secs(600))
}

/// Standard output and error together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A tiny trained CNN (100 images, 1 epoch) in `dir`; its checkpoint.
pub fn tiny_cnn(dir: &Path) -> PathBuf {
    let o = run(&[
        "train",
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--train-size",
        "100",
        "--out",
        s(dir),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    dir.join("checkpoint.safetensors")
}
