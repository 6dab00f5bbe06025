//! `cargo xtask` (`cargo run -p xtask`) and the README's `cargo test
//! --workspace --release` must resolve every shared dependency with the
//! same features, or the first `cargo xtask` after the tests builds rayon,
//! gemm and candle a second time (about 3 minutes in CI; docs/build.md).
//! xtask's Cargo.toml asks for the features the dev-dependencies turn on;
//! this test fails, naming the crates, when a change makes them differ.

use std::{collections::BTreeMap, process::Command};

/// `(crate, version) → feature lists` as `cargo tree` prints them.
fn features(args: &[&str]) -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["tree", "--offline", "--prefix", "none", "-f", "{p} [{f}]"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, feats)) = line.split_once(" [") else {
            continue;
        };
        // `name vX.Y.Z` (a path dependency adds its folder in parentheses).
        let key: String = package.split(' ').take(2).collect::<Vec<_>>().join(" ");
        let list = map.entry(key).or_default();
        let f = feats.trim_end_matches(']').to_string();
        if !list.contains(&f) {
            list.push(f);
        }
    }
    map
}

#[test]
fn cargo_xtask_and_the_test_build_resolve_the_same_features() {
    let xtask = features(&["-p", "xtask", "-e", "normal,build"]);
    let tests = features(&["--workspace", "-e", "normal,build,dev"]);
    let differ: Vec<String> = xtask
        .iter()
        .filter_map(|(k, v)| {
            let t = tests.get(k)?;
            (t != v).then(|| format!("{k}: cargo xtask {v:?}, tests {t:?}"))
        })
        .collect();
    assert!(
        xtask.len() > 100,
        "cargo tree listed only {} crates",
        xtask.len()
    );
    assert!(
        differ.is_empty(),
        "features differ (add them to xtask/Cargo.toml's unification block):\n{}",
        differ.join("\n")
    );
}
