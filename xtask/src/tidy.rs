//! Tidy tests, as rust-analyzer keeps them (its `xtask/src/tidy.rs`): the
//! rules of docs/ARCHITECTURE.md that the compiler does not check, each a
//! test over the source tree that fails when the rule is broken.

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, in name order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "target") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The source of the library crates, the bench crate and xtask (their
/// `src/`, `examples/` and `tests/`).
fn workspace_sources() -> Vec<PathBuf> {
    let root = root();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.push(root.join("bench"));
    dirs.push(root.join("xtask"));
    dirs.sort();
    dirs.iter()
        .flat_map(|d| ["src", "examples", "tests"].map(|s| d.join(s)))
        .flat_map(|d| rust_files(&d))
        .collect()
}

/// The lines of `text` that are code (not `//` comments), numbered from 1.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// The layers of docs/ARCHITECTURE.md's dependency graph: a crate may
/// depend only on crates of lower layers.
const LAYERS: [&[&str]; 7] = [
    &["sgbn-estimators", "sgbn-data"],
    &["sgbn-layers"],
    &["sgbn-models"],
    &["sgbn-attacks", "sgbn-defenses"],
    &["sgbn-metrics", "sgbn-onnx"],
    &["sgbn-eval", "sgbn-bench"],
    &["sgbn", "xtask"],
];

fn layer_of(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&name))
}

/// The `sgbn*` names in the `[dependencies]` and `[build-dependencies]` of
/// a manifest (dev-dependencies may reach sideways: tests use what they test
/// against).
fn sgbn_dependencies(manifest: &str) -> Vec<String> {
    let mut section = String::new();
    let mut deps = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_string();
            continue;
        }
        if section == "dependencies" || section == "build-dependencies" {
            let name = line.split(['=', '.', ' ']).next().unwrap_or_default();
            if name.starts_with("sgbn") {
                deps.push(name.to_string());
            }
        }
    }
    deps
}

#[test]
fn dependencies_point_one_way_as_the_architecture_says() {
    let root = root();
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .flatten()
        .map(|e| e.path().join("Cargo.toml"))
        .collect();
    manifests.push(root.join("bench/Cargo.toml"));
    manifests.push(root.join("xtask/Cargo.toml"));
    let architecture =
        std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut broken = Vec::new();
    for m in &manifests {
        let text = std::fs::read_to_string(m).expect("manifest");
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .map(|n| n.trim_matches('"').to_string())
            .expect("package name");
        let Some(own) = layer_of(&name) else {
            broken.push(format!("{name} ({}) is in no layer of LAYERS", m.display()));
            continue;
        };
        if name.starts_with("sgbn-") && name != "sgbn-bench" && !architecture.contains(&name) {
            broken.push(format!("{name} is not in docs/ARCHITECTURE.md"));
        }
        for dep in sgbn_dependencies(&text) {
            match layer_of(&dep) {
                Some(l) if l < own => {}
                _ => broken.push(format!(
                    "{name} (layer {own}) depends on {dep} (layer {:?}): against the arrows",
                    layer_of(&dep)
                )),
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_layer_check_catches_an_arrow_that_runs_back() {
    let manifest = "[package]\nname = \"sgbn-layers\"\n[dependencies]\nsgbn-models.workspace = true\nsgbn-estimators = { path = \"x\" }\n[dev-dependencies]\nsgbn-eval.workspace = true\n";
    assert_eq!(
        sgbn_dependencies(manifest),
        ["sgbn-models", "sgbn-estimators"]
    );
    assert!(layer_of("sgbn-models") > layer_of("sgbn-layers"));
}

/// Calls that draw from a generator we do not seed (candle's CPU
/// generator cannot be seeded; `rand`'s thread and OS generators are not
/// ours): ARCHITECTURE.md invariant 1.
const UNSEEDED: [&str; 10] = [
    "Tensor::rand(",
    "Tensor::randn(",
    ".rand_like(",
    ".randn_like(",
    "thread_rng(",
    "rand::rng()",
    "rand::random",
    "OsRng",
    "from_entropy(",
    "from_os_rng(",
];

fn unseeded_uses(text: &str) -> Vec<(usize, &'static str)> {
    code_lines(text)
        .flat_map(|(n, l)| {
            UNSEEDED
                .iter()
                .filter(move |p| l.contains(**p))
                .map(move |p| (n, *p))
        })
        .collect()
}

#[test]
fn no_code_draws_from_an_unseeded_generator() {
    let this = Path::new(file!()).file_name().expect("name").to_owned();
    let mut found = Vec::new();
    for f in workspace_sources() {
        if f.file_name() == Some(this.as_os_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("source");
        for (n, p) in unseeded_uses(&text) {
            found.push(format!("{}:{n}: {p}", f.display()));
        }
    }
    assert!(
        found.is_empty(),
        "unseeded randomness:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_randomness_check_sees_a_call_and_ignores_a_comment() {
    let text =
        "// Tensor::rand( is what we never call\nlet x = Tensor::randn(0f32, 1.0, 3, &d)?;\n";
    assert_eq!(unseeded_uses(text), [(2, "Tensor::randn(")]);
}

/// Where a `GradientAttack` may be built outside `sgbn-attacks`: the one
/// protocol's `AttackSpec::build`, the benchmarks, and the examples and
/// doc examples that show the library to a user (invariant 11: every
/// white-box number of a report comes from `sgbn_eval::evaluate`).
const ATTACK_BUILDERS: [&str; 2] = ["crates/eval/src/attack_spec.rs", "bench/src/lib.rs"];

#[test]
fn white_box_attacks_are_built_in_one_place() {
    let root = root();
    let mut found = Vec::new();
    for f in workspace_sources() {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        let shown_to_users = rel.contains("/examples/") || rel.contains("/tests/");
        if rel.starts_with("crates/attacks/")
            || rel == "xtask/src/tidy.rs"
            || shown_to_users
            || ATTACK_BUILDERS.contains(&rel.as_str())
        {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("source");
        for (n, l) in code_lines(&text) {
            if l.contains("GradientAttack::") {
                found.push(format!("{rel}:{n}: {}", l.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a GradientAttack built outside AttackSpec::build (invariant 11):\n{}",
        found.join("\n")
    );
}

/// The file of an experiment id: `fig4.11` → `fig4_11.rs`,
/// `table4.11-more` → `table4_11_more.rs`.
fn experiment_file(id: &str) -> String {
    format!("{}.rs", id.to_lowercase().replace(['.', '-'], "_"))
}

#[test]
fn every_experiment_has_its_file_and_names_its_source() {
    let root = root();
    let dir = root.join("crates/eval/src/experiments");
    let thesis: Vec<String> = std::fs::read_dir(root.join("data/thesis"))
        .expect("data/thesis")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let mut broken = Vec::new();
    for e in sgbn_eval::experiments::all() {
        let id = e.id();
        // Its own file, or for a CIFAR-10 twin (`adaptive-cifar10`) the
        // file of the experiment it repeats, which then declares it.
        let base = id.strip_suffix("-cifar10").unwrap_or(id);
        let (path, twin) = match dir.join(experiment_file(id)) {
            p if p.is_file() => (p, false),
            _ => (dir.join(experiment_file(base)), true),
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            broken.push(format!("{id}: no file {}", path.display()));
            continue;
        };
        if twin && !text.contains(&format!("id: \"{id}\"")) {
            broken.push(format!(
                "{id}: no file of its own, and {} does not declare it",
                path.display()
            ));
        }
        let named = if twin { base } else { id };
        if !text.starts_with(&format!("//! `{named}`")) {
            broken.push(format!(
                "{id}: {} does not open with //! `{named}`",
                path.display()
            ));
        }
        if e.reference().trim().is_empty() {
            broken.push(format!("{id}: no reference (where in the thesis)"));
        }
        let names_thesis_file = thesis.iter().any(|t| text.contains(&format!("\"{t}\"")));
        let building_block = text.contains("FgsmCurve")
            || text.contains("TransferMatrix")
            || text.contains("Ch3Curve")
            || text.contains("ConfidenceGrid")
            || text.contains("BinarizedTable")
            || text.contains("GateHistogram")
            || text.contains("GateTransfer")
            || text.contains("ToyGates")
            || text.contains("GeneralizationGap")
            || text.contains("GradientHistograms")
            || text.contains("PerturbationImages")
            || text.contains("FgsmImages")
            || text.contains("GateMaps");
        let says_none =
            text.contains("beyond the thesis") || text.contains("The thesis states no number");
        if !(names_thesis_file || building_block || says_none) {
            broken.push(format!(
                "{id}: {} names no data/thesis file, uses no building block that takes one, \
                 and does not say it has none (\"beyond the thesis\", \"The thesis states no \
                 number\")",
                path.display()
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn an_experiment_id_maps_to_its_file_name() {
    assert_eq!(experiment_file("fig4.11"), "fig4_11.rs");
    assert_eq!(experiment_file("table4.11-more"), "table4_11_more.rs");
    assert_eq!(experiment_file("figA.1"), "figa_1.rs");
}
