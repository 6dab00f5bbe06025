//! `cargo xtask reproduce --only fig4.5` on CIFAR-10 files the test writes
//! (the official binary layout, small), and the error without any CIFAR-10.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn xtask(args: &[&str], archive_env: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env_remove("SGBN_DATA_DIR")
        .env("SGBN_CIFAR10_JPEG", archive_env)
        .args(args)
        .output()
        .expect("xtask runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A data folder with the vendored MNIST under `mnist/` and, with
/// `records`, CIFAR-10 binary files of that many records each under
/// `cifar-10-batches-bin/` (labels cycling through the ten classes, pixels
/// a function of the label, so a model can learn something).
fn data_dir(root: &Path, records: Option<usize>) -> PathBuf {
    let dir = root.join("data");
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).expect("mkdir");
    let vendored = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist");
    for entry in std::fs::read_dir(&vendored).expect("vendored MNIST") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, mnist.join(path.file_name().expect("name"))).expect("copy");
    }
    if let Some(n) = records {
        let cifar = dir.join("cifar-10-batches-bin");
        std::fs::create_dir_all(&cifar).expect("mkdir");
        for (f, name) in (1..=5)
            .map(|k| format!("data_batch_{k}.bin"))
            .chain(["test_batch.bin".to_string()])
            .enumerate()
        {
            let mut bytes = Vec::new();
            for i in 0..n {
                let label = ((i + f) % 10) as u8;
                bytes.push(label);
                bytes.extend((0..3072).map(|p| label.wrapping_mul(25).wrapping_add((p % 7) as u8)));
            }
            std::fs::write(cifar.join(name), bytes).expect("write");
        }
    }
    dir
}

/// `reproduce --profile smoke --only fig4.5` on `data`, into `out`, with
/// the stand-in archive looked for at `archive`.
fn reproduce_fig4_5(data: &Path, out: &Path, archive: &Path) -> Output {
    xtask(
        &[
            "reproduce",
            "--profile",
            "smoke",
            "--only",
            "fig4.5",
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        archive,
    )
}

#[test]
fn fig4_5_runs_on_the_official_binary_layout_and_is_compared_with_the_thesis() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = data_dir(tmp.path(), Some(30));
    let out = tmp.path().join("out");
    let o = reproduce_fig4_5(&data, &out, &tmp.path().join("no-archive.tar.gz"));
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("CIFAR-10 (official binary version)"), "{t}");
    let report = std::fs::read_to_string(out.join("REPORT-fig4.5.md")).expect("report");
    // Every model has a row with numbers; the thesis's CIFAR-10 rows are
    // set beside ours; nothing says stand-in.
    for m in [
        "cifar10-cnn",
        "cifar10-cnn-bin",
        "cifar10-sap",
        "cifar10-bnn-pgd",
        "cifar10-sgbn",
    ] {
        let row = report
            .lines()
            .find(|l| l.starts_with(&format!("| {m} |")))
            .unwrap_or_else(|| panic!("no row for {m}:\n{report}"));
        assert!(!row.contains('–'), "{row}");
    }
    assert!(report.contains("Beside the thesis"), "{report}");
    assert!(report.contains("the official binary version"), "{report}");
    assert!(!report.contains("STAND-IN"), "{report}");
    assert!(out.join("figures/fig4.5.svg").is_file());
}

#[test]
fn without_any_cifar10_the_error_says_where_it_looked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = data_dir(tmp.path(), None);
    let missing = tmp.path().join("no-archive.tar.gz");
    let o = reproduce_fig4_5(&data, &tmp.path().join("out"), &missing);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("data_batch_1.bin") && t.contains("no-archive.tar.gz"),
        "{t}"
    );
    assert!(!tmp.path().join("out").join("cache").exists(), "{t}");
}
