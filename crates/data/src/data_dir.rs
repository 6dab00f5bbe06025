//! Where data is looked for: `--data-dir`, then `SGBN_DATA_DIR`, then the
//! copy vendored in the repository.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

/// Environment variable naming a data directory.
pub const DATA_DIR_ENV: &str = "SGBN_DATA_DIR";

/// The MNIST copy vendored in this repository (`data/mnist/`), as seen from
/// the source tree this crate was built from.
pub fn vendored_mnist_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/data → the workspace root.
    let root = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    root.join("data").join("mnist")
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
