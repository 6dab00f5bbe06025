//! Where data is looked for: `--data-dir`, then `SGBN_DATA_DIR`, then the
//! copy vendored in the repository.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

/// Environment variable naming a data directory.
pub const DATA_DIR_ENV: &str = "SGBN_DATA_DIR";

/// The MNIST copy vendored in this repository (`data/mnist/`), as seen from
/// the source tree this crate was built from. A crate built from its package
/// (crates.io, `cargo package`) has no such copy: packages do not ship the
/// 11 MB of MNIST (see [`source_repository`] and [`available_mnist_dir`]).
pub fn vendored_mnist_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/data → the workspace root.
    let root = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    root.join("data").join("mnist")
}

/// The root of the sgbn repository this crate was compiled in, or `None`
/// when it was compiled from its package (a crates.io download or `cargo
/// package`'s output), which ships none of the repository's `data/`.
///
/// The repository is recognised by its workspace manifest, two folders up
/// from this crate, listing the crates folder this crate sits in.
pub fn source_repository() -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.ancestors().nth(2)?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let in_crates = crate_dir.parent()? == root.join("crates");
    (in_crates && manifest.contains("[workspace]") && manifest.contains("\"crates/*\""))
        .then(|| root.to_path_buf())
}

/// The MNIST directory that tests and examples can use, if there is one:
/// `$SGBN_DATA_DIR` when it is set and non-empty, else the vendored copy when
/// this crate was compiled inside the sgbn repository ([`source_repository`]);
/// `None` for a packaged build without `SGBN_DATA_DIR`.
///
/// A test that needs MNIST skips (saying so) on `None` and uses the
/// directory otherwise, so that inside the repository a missing or damaged
/// copy fails the test rather than skipping it.
pub fn available_mnist_dir() -> Option<PathBuf> {
    available_mnist_dir_from(
        std::env::var_os(DATA_DIR_ENV),
        source_repository().is_some(),
    )
}

/// [`available_mnist_dir`] with the environment variable's value and whether
/// this is the repository passed in.
pub fn available_mnist_dir_from(env: Option<OsString>, in_repository: bool) -> Option<PathBuf> {
    let env_set = env.as_ref().is_some_and(|v| !v.is_empty());
    (env_set || in_repository).then(|| resolve_mnist_dir_from(None, env))
}

/// The MNIST directory to use: `explicit` (a `--data-dir` flag) if given,
/// else `$SGBN_DATA_DIR` if set and non-empty, else [`vendored_mnist_dir`].
/// A directory that holds an `mnist/` folder rather than the files stands for
/// that folder.
pub fn resolve_mnist_dir(explicit: Option<&Path>) -> PathBuf {
    resolve_mnist_dir_from(explicit, std::env::var_os(DATA_DIR_ENV))
}

/// [`resolve_mnist_dir`] with the environment variable's value passed in.
pub fn resolve_mnist_dir_from(explicit: Option<&Path>, env: Option<OsString>) -> PathBuf {
    let dir = explicit
        .map(Path::to_path_buf)
        .or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(vendored_mnist_dir);
    let nested = dir.join("mnist");
    let has_files = ["train-images-idx3-ubyte", "train-images.idx3-ubyte"]
        .iter()
        .any(|n| dir.join(n).is_file() || dir.join(format!("{n}.gz")).is_file());
    if !has_files && nested.is_dir() {
        nested
    } else {
        dir
    }
}
