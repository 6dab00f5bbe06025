//! The command line against bad input (issue "Hardening"): each test runs
//! the built `xtask` binary as a user would and checks the exit status, the
//! message, and what is (or is not) left on disk.

mod common;

use std::{path::Path, process::Output};

use common::{run, s, text, tiny_cnn, xtask};

/// Runs `args`, expects a failure whose output contains every one of
/// `needles` and no backtrace.
fn fails_saying(args: &[&str], needles: &[&str]) -> String {
    let o = run(args);
    let t = text(&o);
    assert!(!o.status.success(), "{args:?} succeeded:\n{t}");
    for n in needles {
        assert!(t.contains(n), "{args:?}: output lacks {n:?}:\n{t}");
    }
    assert!(
        !t.contains("stack backtrace") && !t.contains("Stack backtrace"),
        "a user error printed a backtrace:\n{t}"
    );
    t
}

#[test]
fn case_1_geometry_and_memory_are_bounded_before_anything_is_built() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("run");
    fails_saying(
        &[
            "train",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--train-size",
            "200",
            "--padding",
            "100",
            "--out",
            s(&out),
        ],
        &["padding 100", "kernel 5"],
    );
    fails_saying(
        &[
            "train",
            "--model",
            "sgbn",
            "--batch-size",
            "100000",
            "--max-memory-gb",
            "1",
            "--out",
            s(&out),
        ],
        &["estimated", "--max-memory-gb"],
    );
    assert!(!out.exists(), "a refused run left {}", out.display());
}

#[test]
fn case_5_13_16_bad_values_are_refused_with_their_rule_and_leave_no_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("a").join("b");
    fails_saying(
        &["train", "--model", "cnn", "--epochs", "0", "--out", s(&out)],
        &["--epochs must be at least 1"],
    );
    fails_saying(
        &[
            "train",
            "--model",
            "cnn",
            "--lr",
            "-0.001",
            "--out",
            s(&out),
        ],
        &["--lr must be a finite number > 0 (got -0.001)"],
    );
    fails_saying(
        &[
            "train",
            "--model",
            "cnn",
            "--dropout",
            "-0.5",
            "--out",
            s(&out),
        ],
        &["--dropout must be in [0, 1) (got -0.5)"],
    );
    // A run that fails after creating --out removes the folders it made.
    fails_saying(
        &[
            "train",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--data-dir",
            s(&tmp.path().join("no-such-data")),
            "--out",
            s(&out),
        ],
        &["no-such-data"],
    );
    assert!(
        !out.exists() && !tmp.path().join("a").exists(),
        "empty --out left behind"
    );
}

#[test]
fn case_7_8_9_13_attack_checks_its_values_and_out_before_attacking() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").expect("file");
    let t = fails_saying(
        &[
            "attack",
            "--checkpoint",
            s(&ck),
            "--test-size",
            "20",
            "--out",
            s(&file),
        ],
        &["--out", "not a directory"],
    );
    assert!(
        !t.contains("clean accuracy"),
        "the attack ran before the check:\n{t}"
    );
    fails_saying(
        &["attack", "--checkpoint", s(&ck), "--test-size", "1000000"],
        &["--test-size 1000000 is more than the 10000 test images"],
    );
    fails_saying(
        &[
            "attack",
            "--checkpoint",
            s(&ck),
            "--attack",
            "bim",
            "--steps",
            "0",
        ],
        &["steps must be ≥ 1"],
    );
    fails_saying(
        &["attack", "--checkpoint", s(&ck), "--eps", "-0.1"],
        &["ε = -0.1 must be in [0, 1]"],
    );
    fails_saying(
        &[
            "attack",
            "--checkpoint",
            s(&ck),
            "--attack",
            "bim",
            "--step-size",
            "-0.01",
        ],
        &["--step-size must be in (0, ε]", "got -0.01"],
    );
    // One step at ε 0.3: the default step is capped at ε, never "0.75".
    let out = tmp.path().join("bim");
    let o = run(&[
        "attack",
        "--checkpoint",
        s(&ck),
        "--attack",
        "bim,ill",
        "--steps",
        "1",
        "--eps",
        "0.3",
        "--test-size",
        "20",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("attack.json")).expect("json"))
            .expect("parse");
    let steps: Vec<f64> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["spec"]["step"].as_f64().expect("step"))
        .collect();
    assert_eq!(steps, vec![0.3, 0.3], "{json}");
}

#[test]
fn case_11_the_same_seed_and_command_give_byte_identical_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    tiny_cnn(&a);
    tiny_cnn(&b);
    for f in ["checkpoint.safetensors", "metrics.json"] {
        assert!(
            std::fs::read(a.join(f)).expect("a") == std::fs::read(b.join(f)).expect("b"),
            "{f} differs between two runs of the same command"
        );
    }
    let timings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("timings.json")).expect("timings"))
            .expect("parse");
    assert!(
        timings["wall_seconds"].as_f64().is_some_and(|s| s > 0.0),
        "{timings}"
    );
}

#[test]
fn case_14_a_data_file_that_is_a_directory_is_named_as_such() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist");
    for e in std::fs::read_dir(&root).expect("vendored MNIST") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).expect("copy");
    }
    let bad = tmp.path().join("t10k-labels-idx1-ubyte.gz");
    std::fs::remove_file(&bad).expect("rm");
    std::fs::create_dir(&bad).expect("dir");
    fails_saying(
        &["data", "--data-dir", s(tmp.path())],
        &["t10k-labels-idx1-ubyte.gz is a directory"],
    );
}

/// `reproduce --profile smoke --only fig4.3` into `out`; its log.
fn smoke(out: &Path) -> String {
    let o = run(&[
        "reproduce",
        "--profile",
        "smoke",
        "--only",
        "fig4.3",
        "--out",
        s(out),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    t
}

#[test]
fn case_3_4_15_the_cache_is_validated_and_report_never_loses_results_silently() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("smoke");
    smoke(&out);
    let report = out.join("report-fig4.3.json");
    let good = std::fs::read(&report).expect("report");

    // 3: an implausible cached value is named, recomputed, and the report
    // is the same as before.
    let evals = out.join("cache/evals");
    let entry = std::fs::read_dir(&evals)
        .expect("evals")
        .next()
        .expect("an entry")
        .expect("entry")
        .path();
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&entry).expect("entry")).expect("json");
    v["accuracy"] = serde_json::json!(7.5);
    std::fs::write(&entry, serde_json::to_vec(&v).expect("json")).expect("edit");
    let log = smoke(&out);
    let name = entry
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        log.contains("invalid cache entry")
            && log.contains(&name)
            && log.contains("accuracy = 7.5"),
        "{log}"
    );
    assert!(
        std::fs::read(&report).expect("report") == good,
        "report changed"
    );

    // 3: a damaged cached checkpoint stops with the way out.
    let models = out.join("cache/models");
    let model_dir = std::fs::read_dir(&models)
        .expect("models")
        .map(|e| e.expect("entry").path())
        .find(|p| p.join("done.json").exists())
        .expect("a trained model");
    std::fs::write(model_dir.join("checkpoint.safetensors"), b"truncated").expect("damage");
    for f in std::fs::read_dir(&evals).expect("evals") {
        std::fs::remove_file(f.expect("entry").path()).expect("rm");
    }
    fails_saying(
        &[
            "reproduce",
            "--profile",
            "smoke",
            "--only",
            "fig4.3",
            "--out",
            s(&out),
        ],
        &["delete the folder", "to retrain it"],
    );

    // 4: `report` on a missing folder, or on a cache of another profile.
    let nowhere = tmp.path().join("nowhere");
    fails_saying(
        &[
            "report",
            "--profile",
            "smoke",
            "--only",
            "fig4.3",
            "--out",
            s(&nowhere),
        ],
        &["holds no results"],
    );
    assert!(!nowhere.exists(), "report created {}", nowhere.display());
    fails_saying(
        &["report", "--only", "fig4.3", "--out", s(&out)],
        &["holds none of the", "quick"],
    );
    // 4: fewer results than the report on disk: refused, old report kept;
    // replaced with --allow-fewer.
    let t = fails_saying(
        &[
            "report",
            "--profile",
            "smoke",
            "--only",
            "fig4.3",
            "--out",
            s(&out),
        ],
        &["--allow-fewer", "kept the existing report"],
    );
    assert!(std::fs::read(&report).expect("report") == good, "{t}");
    let o = run(&[
        "report",
        "--profile",
        "smoke",
        "--only",
        "fig4.3",
        "--allow-fewer",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read(&report).expect("report") != good);

    // 15: the manifest says which runs the cache holds, not only the
    // number asked for.
    let o = run(&[
        "report",
        "--profile",
        "smoke",
        "--only",
        "fig4.3",
        "--runs",
        "3",
        "--allow-fewer",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(out.join("REPORT-fig4.3.md")).expect("md");
    assert!(
        md.contains("training runs in the cache:") && md.contains("run 2"),
        "{md}"
    );
}

#[test]
fn case_17_two_concurrent_reproduce_runs_compute_each_unit_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("shared");
    let spawn = || {
        xtask()
            .args([
                "reproduce",
                "--profile",
                "smoke",
                "--only",
                "fig4.3",
                "--out",
                s(&out),
            ])
            .env("SGBN_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        text(&a),
        text(&b)
    );
    // Each process logs a "stage" line, with the unit's claim name, for
    // each unit it computes.
    let stages = |o: &Output| -> Vec<String> {
        text(o)
            .lines()
            .filter_map(|l| l.split(" unit=").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .collect()
    };
    let (sa, sb) = (stages(&a), stages(&b));
    let both: Vec<&String> = sa.iter().filter(|x| sb.contains(x)).collect();
    assert!(both.is_empty(), "computed by both processes: {both:?}");
    assert!(!sa.is_empty() || !sb.is_empty(), "nothing was computed");
    // The shared result equals a single process's.
    let alone = tmp.path().join("alone");
    smoke(&alone);
    assert!(
        std::fs::read(out.join("report-fig4.3.json")).expect("shared")
            == std::fs::read(alone.join("report-fig4.3.json")).expect("alone"),
        "the concurrent runs' report differs from a single run's"
    );
    let claims = out.join("cache/claims");
    let left: Vec<_> = std::fs::read_dir(&claims)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "claims left behind: {left:?}");
}

#[test]
fn export_import_and_bench_refuse_bad_input_before_writing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("export");
    // A checkpoint that is not there.
    fails_saying(
        &[
            "export",
            "--checkpoint",
            s(&tmp.path().join("missing.safetensors")),
            "--out",
            s(&out),
        ],
        &["missing.safetensors"],
    );
    assert!(!out.exists());
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    // More reference images than the test set holds.
    fails_saying(
        &[
            "export",
            "--checkpoint",
            s(&ck),
            "--out",
            s(&out),
            "--reference-images",
            "20000",
        ],
        &["--reference-images 20000 is more than the 10000 test images"],
    );
    assert!(!out.exists());
    // An sgbn checkpoint is not a PyTorch export.
    let imported = tmp.path().join("imported");
    fails_saying(
        &["import", "--file", s(&ck), "--out", s(&imported)],
        &["\"sgbn-checkpoint-1\", expected \"sgbn-pytorch-1\""],
    );
    assert!(!imported.exists());
    // Zero rounds.
    fails_saying(
        &["bench", "--against", "pytorch", "--rounds", "0"],
        &["--rounds must be ≥ 1"],
    );
    // And the good path: export, import, the same tensors.
    let o = run(&[
        "export",
        "--checkpoint",
        s(&ck),
        "--out",
        s(&out),
        "--reference-images",
        "10",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&[
        "import",
        "--file",
        s(&out.join("model.safetensors")),
        "--out",
        s(&imported),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(imported.join("checkpoint.safetensors").is_file());
    assert!(out.join("reference.safetensors").is_file());
}

#[test]
fn list_names_every_experiment_grouped_by_how_it_runs() {
    let out = run(&["reproduce", "--list"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    for header in [
        "the default set",
        "outside the default set",
        "chapter 3 and Appendix A",
        "CIFAR-10",
    ] {
        assert!(t.contains(header), "no group {header:?} in:\n{t}");
    }
    for id in [
        "fig4.3 ",
        "protocol ",
        "table4.11-more ",
        "fig3.2 ",
        "figA.6 ",
        "fig4.5 ",
        "adaptive-cifar10 ",
    ] {
        assert!(t.contains(id), "{id} is not listed:\n{t}");
    }
    // Chapter 3 comes under its own header, after the default set.
    let (default_at, ch3_at) = (
        t.find("the default set").expect("default"),
        t.find("fig3.2 ").expect("ch3"),
    );
    assert!(
        t.find("chapter 3 and Appendix A").expect("ch3 header") < ch3_at && default_at < ch3_at
    );
}
