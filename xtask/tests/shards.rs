//! `reproduce --shard K/N`: three shards as concurrent processes on one
//! cache, one killed midway and restarted; every unit runs once (the
//! killed one's unit at most once more), and the merged report equals a
//! single process's (docs/cluster.md).

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
};

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env_remove("SGBN_DATA_DIR")
        .env("SGBN_LOG", "info");
    c
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Starts shard `k` of 3; its log lines arrive on `tx` as (k, line).
fn start_shard(out: &Path, k: usize, tx: &mpsc::Sender<(usize, String)>) -> Child {
    let mut child = xtask()
        .args([
            "reproduce",
            "--profile",
            "smoke",
            "--out",
            s(out),
            "--shard",
        ])
        .arg(format!("{k}/3"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = child.stderr.take().expect("stderr");
    let tx = tx.clone();
    thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send((k, line));
        }
    });
    child
}

/// The unit (its claim name) a "stage" log line starts, if it is one.
fn stage(line: &str) -> Option<String> {
    let rest = line.split(" unit=").nth(1)?;
    Some(rest.split_whitespace().next()?.to_string())
}

fn cpu_flags() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mut flags: Vec<&str> = info
        .split_whitespace()
        .filter(|w| ["avx512f", "avx2", "fma"].contains(w))
        .collect();
    flags.sort();
    flags.dedup();
    flags.join(" ")
}

#[test]
fn three_shards_one_killed_and_restarted_compute_each_unit_once_and_merge_to_the_same_report() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("shared");
    let (tx, rx) = mpsc::channel();
    let mut children: Vec<Child> = (0..3).map(|k| start_shard(&out, k, &tx)).collect();

    // Kill shard 1 in the middle of its second unit.
    let mut started: HashMap<String, Vec<usize>> = HashMap::new();
    let mut killed_in = None;
    let mut seen_by_1 = 0;
    while killed_in.is_none() {
        let (k, line) = rx.recv().expect("a shard's log");
        if let Some(unit) = stage(&line) {
            started.entry(unit.clone()).or_default().push(k);
            if k == 1 {
                seen_by_1 += 1;
                if seen_by_1 == 2 {
                    children[1].kill().expect("kill shard 1");
                    children[1].wait().expect("reap");
                    killed_in = Some(unit);
                }
            }
        }
    }
    children[1] = start_shard(&out, 1, &tx);
    drop(tx);
    for (k, c) in children.iter_mut().enumerate() {
        let status = c.wait().expect("wait");
        assert!(status.success(), "shard {k} failed");
    }
    for (k, line) in rx.iter() {
        if let Some(unit) = stage(&line) {
            started.entry(unit).or_default().push(k);
        }
    }
    let killed_in = killed_in.expect("killed");
    for (unit, by) in &started {
        let allowed = if *unit == killed_in { 2 } else { 1 };
        assert!(
            by.len() <= allowed,
            "{unit} ran {} times (shards {by:?})",
            by.len()
        );
    }
    assert!(started.len() > 100, "only {} units ran", started.len());

    let o = xtask()
        .args(["report", "--profile", "smoke", "--out", s(&out)])
        .output()
        .expect("report");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let merged = std::fs::read(out.join("report.json")).expect("merged report");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let reference_flags =
        std::fs::read_to_string(root.join("data/reference/smoke-report.cpu-flags"))
            .unwrap_or_default();
    // The single process's report: the stored reference on the CPU kind
    // it was made on (as CI compares it), else a fresh single run.
    let single = if reference_flags.trim() == cpu_flags() {
        std::fs::read(root.join("data/reference/smoke-report.json")).expect("reference")
    } else {
        let alone = tmp.path().join("alone");
        let o = xtask()
            .args(["reproduce", "--profile", "smoke", "--out", s(&alone)])
            .output()
            .expect("single");
        assert!(o.status.success());
        std::fs::read(alone.join("report.json")).expect("single report")
    };
    assert!(
        merged == single,
        "the merged report differs from a single process's"
    );
}
