//! The command line against the second hardening pass's cases (issue 37):
//! tensors' dtypes, names and presence; sizes read from files; FIFOs and
//! stale claims; values that mean nothing or are ignored; cached numbers
//! out of their bounds; a planted link at an output folder; an unreadable
//! slope. Each test runs the built `xtask` binary as a user would, with a
//! time limit where the bug was a hang (docs/robustness.md).

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use common::{output_within, run, s, text, tiny_cnn, xtask};

/// Expects `o` to have failed as a user error (status 1, no backtrace, no
/// abort) whose output holds every one of `needles`.
fn failed_saying(o: &Output, what: &str, needles: &[&str]) -> String {
    let t = text(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{what}: not a clean failure:\n{t}"
    );
    for n in needles {
        assert!(t.contains(n), "{what}: output lacks {n:?}:\n{t}");
    }
    assert!(
        !t.contains("stack backtrace") && !t.contains("memory allocation"),
        "{what}: {t}"
    );
    t
}

fn fails_saying(args: &[&str], needles: &[&str]) -> String {
    failed_saying(&run(args), &format!("{args:?}"), needles)
}

/// Rewrites the safetensors file `from` into `to` after `edit` has changed
/// its JSON header and its data bytes (offsets are relative to the data, so
/// a header of another length is fine).
fn edit_safetensors(
    from: &Path,
    to: &Path,
    edit: impl FnOnce(&mut serde_json::Value, &mut Vec<u8>),
) {
    let bytes = std::fs::read(from).expect("read");
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).expect("header");
    let mut data = bytes[8 + n..].to_vec();
    edit(&mut header, &mut data);
    let mut text = serde_json::to_vec(&header).expect("json");
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&data);
    std::fs::write(to, out).expect("write");
}

/// Edits the model spec stored in a checkpoint's or export's header.
fn edit_spec(header: &mut serde_json::Value, edit: impl FnOnce(&mut serde_json::Value)) {
    let meta = &mut header["__metadata__"];
    let mut spec: serde_json::Value =
        serde_json::from_str(meta["sgbn.spec"].as_str().expect("spec")).expect("spec json");
    edit(&mut spec);
    meta["sgbn.spec"] = serde_json::Value::String(spec.to_string());
}

fn attack_fgsm(ck: &Path, out: &Path) -> Output {
    run(&[
        "attack",
        "--checkpoint",
        s(ck),
        "--attack",
        "fgsm",
        "--eps",
        "0.1",
        "--test-size",
        "20",
        "--out",
        s(out),
    ])
}

#[test]
fn every_tensor_is_checked_for_its_dtype_name_and_presence() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    let out = tmp.path().join("attack");
    // conv0.weight relabelled I32, bn0.running_var U32: same byte size.
    for (name, dtype) in [("conv0.weight", "I32"), ("bn0.running_var", "U32")] {
        let bad = tmp.path().join(format!("{name}-{dtype}.safetensors"));
        edit_safetensors(&ck, &bad, |h, _| h[name]["dtype"] = dtype.into());
        failed_saying(
            &attack_fgsm(&bad, &out),
            name,
            &[&format!("tensor {name} is {dtype}, the model needs F32")],
        );
    }
    assert!(!out.exists(), "a refused attack left {}", out.display());
    // A tensor the model does not have.
    let stray = tmp.path().join("stray.safetensors");
    edit_safetensors(&ck, &stray, |h, data| {
        let at = data.len();
        data.extend_from_slice(&1f32.to_le_bytes());
        h["gate9.hidden1.weight"] =
            serde_json::json!({"dtype": "F32", "shape": [1], "data_offsets": [at, at + 4]});
    });
    failed_saying(
        &attack_fgsm(&stray, &out),
        "stray tensor",
        &["gate9.hidden1.weight", "does not have"],
    );

    // The same through `import`: a relabelled tensor, an extra one.
    let export = tmp.path().join("export");
    let o = run(&["export", "--checkpoint", s(&ck), "--out", s(&export)]);
    assert!(o.status.success(), "{}", text(&o));
    let file = export.join("model.safetensors");
    let imported = tmp.path().join("imported");
    let relabelled = tmp.path().join("export-i32.safetensors");
    edit_safetensors(&file, &relabelled, |h, _| {
        h["conv0.weight"]["dtype"] = "I32".into();
    });
    fails_saying(
        &["import", "--file", s(&relabelled), "--out", s(&imported)],
        &["tensor conv0.weight is I32, the model needs F32"],
    );
    let extra = tmp.path().join("export-extra.safetensors");
    edit_safetensors(&file, &extra, |h, data| {
        let at = data.len();
        data.extend_from_slice(&1f32.to_le_bytes());
        h["gate9.hidden1.weight"] =
            serde_json::json!({"dtype": "F32", "shape": [1], "data_offsets": [at, at + 4]});
    });
    fails_saying(
        &["import", "--file", s(&extra), "--out", s(&imported)],
        &["gate9.hidden1.weight"],
    );
    assert!(!imported.exists());
    // The untouched files still work.
    let o = attack_fgsm(&ck, &out);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn sizes_read_from_a_file_are_bounded_before_anything_is_allocated() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    let out = tmp.path().join("attack");
    type SpecEdit = fn(&mut serde_json::Value);
    let edits: [(&str, SpecEdit); 3] = [
        ("1e9 conv filters", |spec| {
            spec["convs"][0]["filters"] = 1_000_000_000u64.into();
        }),
        ("a 1e11-wide hidden layer", |spec| {
            spec["hidden"] = 100_000_000_000u64.into();
        }),
        ("a 1×100000×100000 input", |spec| {
            spec["input"] = serde_json::json!([1, 100_000, 100_000]);
        }),
    ];
    for (what, edit) in edits {
        let bad = tmp.path().join("huge.safetensors");
        edit_safetensors(&ck, &bad, |h, _| edit_spec(h, edit));
        let start = Instant::now();
        failed_saying(
            &attack_fgsm(&bad, &out),
            what,
            &["builds about", "values but the file holds only"],
        );
        assert!(start.elapsed() < Duration::from_secs(60), "{what}: slow");
    }
    // The same parameters, but activations that do not fit: a huge input
    // that a strided second conv brings back to the file's 4×4.
    type Geometry = (u64, u64, &'static [&'static str]);
    let cases: [Geometry; 2] = [
        (
            30_009,
            10_000,
            &["one image's activations need an estimated"],
        ),
        (
            1_009,
            333,
            &["for a batch of 100", "use a smaller --batch-size"],
        ),
    ];
    for (side, stride, says) in cases {
        let bad = tmp.path().join("wide.safetensors");
        edit_safetensors(&ck, &bad, |h, _| {
            edit_spec(h, |spec| {
                spec["input"] = serde_json::json!([1, side, side]);
                spec["convs"][0]["stride"] = 1.into();
                spec["convs"][1]["stride"] = stride.into();
            })
        });
        failed_saying(&attack_fgsm(&bad, &out), &format!("input {side}²"), says);
    }
    // An export for `import`.
    let export = tmp.path().join("export");
    let o = run(&["export", "--checkpoint", s(&ck), "--out", s(&export)]);
    assert!(o.status.success(), "{}", text(&o));
    let huge = tmp.path().join("huge-export.safetensors");
    edit_safetensors(&export.join("model.safetensors"), &huge, |h, _| {
        edit_spec(h, |spec| spec["hidden"] = 100_000_000_000u64.into());
    });
    fails_saying(
        &[
            "import",
            "--file",
            s(&huge),
            "--out",
            s(&tmp.path().join("imported")),
        ],
        &["builds about"],
    );
    // Counts: --runs is bounded before the plan is made.
    for runs in ["100000", "1000000000000"] {
        fails_saying(
            &[
                "reproduce",
                "--profile",
                "smoke",
                "--only",
                "fig4.3",
                "--runs",
                runs,
                "--plan",
                "--out",
                s(&tmp.path().join("plan")),
            ],
            &["--runs must be in 1..=1000"],
        );
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_for_a_file_is_refused_at_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fifo = tmp.path().join("pipe.safetensors");
    mkfifo(&fifo);
    let out = tmp.path().join("out");
    let cases: [&[&str]; 3] = [
        &["attack", "--checkpoint", s(&fifo), "--out", s(&out)],
        &["import", "--file", s(&fifo), "--out", s(&out)],
        &["export", "--checkpoint", s(&fifo), "--out", s(&out)],
    ];
    for args in cases {
        let mut c = xtask();
        c.args(args);
        let o = output_within(c, Duration::from_secs(60));
        failed_saying(&o, &format!("{args:?}"), &["FIFO", "not a regular file"]);
    }
}

fn smoke(out: &Path) -> Output {
    let mut c = xtask();
    c.args([
        "reproduce",
        "--profile",
        "smoke",
        "--only",
        "fig4.3",
        "--out",
        s(out),
    ]);
    output_within(c, Duration::from_secs(600))
}

#[test]
fn the_cache_refuses_fifos_stale_pids_bad_values_and_planted_links() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("smoke");
    let o = smoke(&out);
    assert!(o.status.success(), "{}", text(&o));
    let report = out.join("report-fig4.3.json");
    let good = std::fs::read(&report).expect("report");
    let evals: Vec<PathBuf> = std::fs::read_dir(out.join("cache/evals"))
        .expect("evals")
        .map(|e| e.expect("entry").path())
        .collect();

    // A distortion out of its bound (ℓ1 ×100 would print 750) is named and
    // recomputed; so is an ℓ∞ above the attack's ε.
    let attacked = evals
        .iter()
        .find(|p| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(p).expect("entry")).expect("json");
            v["cost"]["max_linf"].as_f64().is_some_and(|m| m > 0.0)
        })
        .expect("an attacked entry")
        .clone();
    let edit = |path: &Path, field: &str, value: f64| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("entry")).expect("json");
        v["cost"][field] = value.into();
        std::fs::write(path, serde_json::to_vec(&v).expect("json")).expect("edit");
    };
    edit(&attacked, "mean_l1", 7.5);
    let o = smoke(&out);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("invalid cache entry") && log.contains("cost.mean_l1 = 7.5"),
        "{log}"
    );
    assert_eq!(std::fs::read(&report).expect("report"), good);
    edit(&attacked, "max_linf", 0.9);
    edit(&attacked, "mean_linf", 0.9);
    let log = text(&smoke(&out));
    assert!(log.contains("is above the attack's ε"), "{log}");
    assert_eq!(std::fs::read(&report).expect("report"), good);

    // A FIFO planted as a cache entry: recomputed, never waited on.
    std::fs::remove_file(&attacked).expect("rm");
    mkfifo(&attacked);
    let o = smoke(&out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("invalid cache entry") || attacked.is_file());
    assert_eq!(std::fs::read(&report).expect("report"), good);

    // A claim whose pid is now another live process (pid 1, a claim 30
    // days old without the holder's start time) is taken over.
    for e in evals.iter().take(1) {
        std::fs::remove_file(e).ok();
    }
    let claims = out.join("cache/claims");
    std::fs::create_dir_all(&claims).expect("claims");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_string();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs()
        - 30 * 24 * 3600;
    let holder = serde_json::json!({"host": host, "pid": 1, "since_unix_s": since});
    let plan = run(&[
        "reproduce",
        "--profile",
        "smoke",
        "--only",
        "fig4.3",
        "--plan",
        "--out",
        s(&out),
    ]);
    assert!(plan.status.success(), "{}", text(&plan));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("plan-fig4.3.json")).expect("plan.json"))
            .expect("plan json");
    for u in plan["units"].as_array().expect("units") {
        let name = u["claim"].as_str().expect("claim");
        std::fs::write(claims.join(format!("{name}.claim")), holder.to_string()).expect("claim");
    }
    let o = smoke(&out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("taking over a stale claim"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&report).expect("report"), good);

    // A malformed SGBN_CLAIM_STALE_S is refused, naming it.
    let mut c = xtask();
    c.args([
        "reproduce",
        "--profile",
        "smoke",
        "--only",
        "fig4.3",
        "--out",
        s(&out),
    ])
    .env("SGBN_CLAIM_STALE_S", "abc");
    failed_saying(
        &output_within(c, Duration::from_secs(120)),
        "SGBN_CLAIM_STALE_S=abc",
        &["SGBN_CLAIM_STALE_S=\"abc\" must be a whole number of seconds"],
    );

    // figures/ replaced by a link to a folder elsewhere: refused, and
    // nothing is written there.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("elsewhere");
    std::fs::remove_dir_all(out.join("figures")).expect("rm figures");
    std::os::unix::fs::symlink(&elsewhere, out.join("figures")).expect("link");
    fails_saying(
        &[
            "report",
            "--profile",
            "smoke",
            "--only",
            "fig4.3",
            "--out",
            s(&out),
        ],
        &["figures is a symbolic link"],
    );
    assert_eq!(std::fs::read_dir(&elsewhere).expect("ls").count(), 0);
}

#[test]
fn values_that_mean_nothing_are_refused_and_ignored_options_warned_about() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--train-size",
            "100",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    failed_saying(
        &train(&["--lr", "-inf"]),
        "--lr -inf",
        &["--lr must be a finite number > 0 (got -inf)"],
    );
    failed_saying(
        &train(&["--patience", "0"]),
        "--patience 0",
        &["--patience must be at least 1"],
    );
    failed_saying(
        &train(&["--pgd-steps", "5"]),
        "--pgd-steps on a CNN",
        &["--pgd-steps is for the models trained with PGD", "CNN"],
    );
    failed_saying(
        &train(&["--lr", "1e30"]),
        "--lr 1e30",
        &["non-finite loss", "--lr 1e30", "try a smaller --lr"],
    );
    let _ = std::fs::remove_dir_all(&out);
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    let attack = |extra: &[&str]| {
        let mut args = vec![
            "attack",
            "--checkpoint",
            s(&ck),
            "--attack",
            "fgsm",
            "--eps",
            "0.1",
            "--test-size",
            "20",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    for (extra, says) in [
        (["--steps", "0"], "--steps must be ≥ 1"),
        (["--queries", "0"], "--queries must be ≥ 1"),
        (["--step-size", "5"], "--step-size must be in (0, ε]"),
    ] {
        failed_saying(&attack(&extra), &format!("{extra:?}"), &[says]);
    }
    let o = attack(&["--steps", "5", "--queries", "10"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("--steps is ignored") && t.contains("--queries is ignored"),
        "{t}"
    );
}

#[test]
fn an_unreadable_slope_is_refused_not_replaced_by_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    // An imported checkpoint carries its slope as eval.slope, with no log.
    let export = tmp.path().join("export");
    let o = run(&["export", "--checkpoint", s(&ck), "--out", s(&export)]);
    assert!(o.status.success(), "{}", text(&o));
    let imported = tmp.path().join("imported");
    let o = run(&[
        "import",
        "--file",
        s(&export.join("model.safetensors")),
        "--out",
        s(&imported),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let good = imported.join("checkpoint.safetensors");
    let bad = tmp.path().join("abc.safetensors");
    edit_safetensors(&good, &bad, |h, _| {
        let meta = h["__metadata__"].as_object_mut().expect("metadata");
        assert!(meta.contains_key("eval.slope") && !meta.contains_key("train.log"));
        meta.insert("eval.slope".into(), "abc".into());
    });
    let out = tmp.path().join("attack");
    failed_saying(
        &attack_fgsm(&bad, &out),
        "eval.slope = abc",
        &["eval.slope = \"abc\" is not a finite number > 0"],
    );
    let o = attack_fgsm(&good, &out);
    assert!(o.status.success(), "{}", text(&o));
}
