//! `cargo xtask audit` as a user runs it: on a tiny trained CNN it writes
//! `AUDIT.md`, `audit.json` and the figure; each line's `cargo xtask
//! attack` command prints the line's number; a second run takes every line
//! from the cache; bad input is refused before any work.

mod common;

use common::{run, s, text, tiny_cnn};

const BUDGET: [&str; 18] = [
    "--test-size",
    "40",
    "--pgd-steps",
    "5",
    "--apgd-steps",
    "5",
    "--queries",
    "40",
    "--sweep",
    "0.1,1",
    "--surrogate-epochs",
    "1",
    "--surrogate-train-size",
    "100",
    "--batch-size",
    "20",
    "--passes",
    "2",
];

#[test]
fn an_audit_writes_its_report_its_lines_reproduce_and_it_resumes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    let out = tmp.path().join("audit");
    let mut args = vec!["audit", "--checkpoint", s(&ck), "--out", s(&out)];
    args.extend(BUDGET);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(out.join("AUDIT.md")).expect("AUDIT.md");
    for needle in [
        "**Verdict: ",
        "## The checklist",
        "`unbounded-reaches-zero`",
        "transfer(pgd",
        "audit.svg",
    ] {
        assert!(md.contains(needle), "{needle} missing:\n{md}");
    }
    let svg = std::fs::read_to_string(out.join("audit.svg")).expect("audit.svg");
    assert!(svg.starts_with("<svg") && svg.contains("apgd-ce"), "{svg}");
    let png = std::fs::read(out.join("audit.png")).expect("audit.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let json = std::fs::read_to_string(out.join("audit.json")).expect("audit.json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let lines = report["lines"].as_array().expect("lines");

    // The PGD line's command, run, prints the audit's number.
    let pgd = lines
        .iter()
        .find(|l| l["role"] == "pgd" && l["spec"]["eps"] == 0.3)
        .expect("pgd line");
    let row = md
        .lines()
        .find(|r| {
            r.starts_with(&format!(
                "| `pgd` | {} |",
                pgd["name"].as_str().expect("name")
            ))
        })
        .expect("pgd row");
    let command = row.rsplit('`').nth(1).expect("a command in the row");
    let attack_out = tmp.path().join("attack");
    let mut words: Vec<&str> = command.split(' ').skip(2).collect(); // `cargo xtask`
    words.extend(["--out", s(&attack_out)]);
    let o = run(&words);
    assert!(o.status.success(), "{command}: {}", text(&o));
    let attack: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(attack_out.join("attack.json")).expect("attack.json"),
    )
    .expect("json");
    assert_eq!(
        attack["rows"][0]["correct_passes"], pgd["result"]["correct_passes"],
        "{command} gave other per-image results than the audit's line"
    );

    // Again: every line from the cache, the same lines.
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).expect("json"))
            .expect("json");
    assert_eq!(again["lines"], report["lines"]);
    assert_eq!(again["verdict"], report["verdict"]);

    // A damaged cache entry is named, never silently recomputed, and the
    // earlier results stay.
    let entry = std::fs::read_dir(out.join("cache").join("audit"))
        .expect("cache")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a cached line");
    let before = std::fs::read(out.join("audit.json")).expect("json");
    std::fs::write(&entry, b"{ not json").expect("damage");
    let o = run(&args);
    assert!(!o.status.success());
    assert!(text(&o).contains("is damaged"), "{}", text(&o));
    assert!(
        std::fs::read(out.join("audit.json")).expect("json") == before,
        "the earlier audit.json was touched"
    );
}

#[test]
fn a_file_that_is_not_a_model_or_data_that_does_not_fit_is_refused_first() {
    let tmp = tempfile::tempdir().expect("tmp");
    let junk = tmp.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a checkpoint").expect("write");
    let out = tmp.path().join("out");
    let o = run(&["audit", "--checkpoint", s(&junk), "--out", s(&out)]);
    assert!(!o.status.success());
    assert!(text(&o).contains("junk.safetensors"), "{}", text(&o));
    assert!(!out.exists(), "a refused audit left {}", out.display());
    let ck = tiny_cnn(&tmp.path().join("cnn"));
    let o = run(&[
        "audit",
        "--checkpoint",
        s(&ck),
        "--data",
        "cifar10",
        "--out",
        s(&out),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("the model takes [1, 28, 28] images"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "audit",
        "--checkpoint",
        s(&ck),
        "--eps",
        "2",
        "--out",
        s(&out),
    ]);
    assert!(text(&o).contains("ε 2 must lie in (0, 1]"), "{}", text(&o));
    assert!(!out.exists());
}

/// An ONNX file is read and checked before any data is loaded: a graph for
/// 12×12 images is refused against MNIST, and a file that is not ONNX is
/// named (the audit of real exports against torchattacks: python/check_audit.sh).
#[test]
fn an_onnx_file_that_does_not_fit_is_refused_first() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/onnx/tests/data/cnn.onnx"
    );
    let o = run(&["audit", "--onnx", fixture, "--out", s(&out)]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("the model takes [1, 12, 12] images"),
        "{}",
        text(&o)
    );
    let junk = tmp.path().join("junk.onnx");
    std::fs::write(&junk, b"\xff\xff not onnx").expect("write");
    let o = run(&["audit", "--onnx", s(&junk), "--out", s(&out)]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("junk.onnx") && text(&o).contains("not an ONNX model"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
}
