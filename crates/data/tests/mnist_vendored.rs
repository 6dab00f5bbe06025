//! The vendored MNIST loads whole, verified against its checksums.

use candle_core::DType;
use std::path::{Path, PathBuf};

use sgbn_data::{
    Checksums, MNIST_FILES, available_mnist_dir_from, load_mnist, load_mnist_with,
    resolve_mnist_dir_from, source_repository, vendored_mnist_dir,
};

/// The vendored copy when these tests run in the sgbn repository; `None`
/// (and a message) when they run from the crate's package, which does not
/// ship it.
fn vendored() -> Option<PathBuf> {
    if source_repository().is_some() {
        Some(vendored_mnist_dir())
    } else {
        eprintln!(
            "skipped: this test reads the sgbn repository's data/mnist, which the package does not ship"
        );
        None
    }
}

#[test]
fn vendored_mnist_loads_and_verifies() {
    let Some(dir) = vendored() else { return };
    let mnist = load_mnist(&dir).expect("vendored MNIST loads");
    assert_eq!(mnist.train.images().dims(), [60_000, 1, 28, 28]);
    assert_eq!(mnist.test.images().dims(), [10_000, 1, 28, 28]);
    assert_eq!(mnist.train.images().dtype(), DType::F32);
    assert_eq!(mnist.train.labels().dims(), [60_000]);
    assert_eq!(mnist.test.labels().dtype(), DType::U32);

    // The digests of what was read are the canonical ones, file by file.
    assert_eq!(mnist.files.len(), 4);
    for (read, canonical) in mnist.files.iter().zip(MNIST_FILES) {
        assert!(read.path.ends_with(format!("{}.gz", canonical.name)));
        assert_eq!(read.sha256, canonical.sha256);
    }

    // Pixels in [0, 1], both ends used; the well-known class counts.
    let px = mnist.test.images().flatten_all().expect("flat");
    let (min, max) = (
        px.min(0).expect("min").to_scalar::<f32>().expect("min"),
        px.max(0).expect("max").to_scalar::<f32>().expect("max"),
    );
    assert_eq!((min, max), (0.0, 1.0));
    let mut counts = [0usize; 10];
    for l in mnist.test.label_vec().expect("labels") {
        counts[l as usize] += 1;
    }
    assert_eq!(
        counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    // First training label of MNIST is a 5, first test label a 7.
    assert_eq!(mnist.train.label_vec().expect("labels")[0], 5);
    assert_eq!(mnist.test.label_vec().expect("labels")[0], 7);
}

#[test]
fn vendored_mnist_verifies_with_canonical_digests_too() {
    let Some(dir) = vendored() else { return };
    let mnist = load_mnist_with(&dir, &Checksums::Canonical).expect("loads");
    assert_eq!(mnist.train.len() + mnist.test.len(), 70_000);
}

#[test]
fn data_dir_precedence_flag_then_env_then_vendored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let flag = tmp.path().join("flag");
    let env = tmp.path().join("env");
    std::fs::create_dir_all(flag.join("mnist")).expect("mkdir");
    std::fs::create_dir_all(&env).expect("mkdir");
    // A directory holding an `mnist/` folder stands for that folder.
    assert_eq!(
        resolve_mnist_dir_from(Some(&flag), Some(env.clone().into())),
        flag.join("mnist")
    );
    assert_eq!(resolve_mnist_dir_from(None, Some(env.clone().into())), env);
    assert_eq!(
        resolve_mnist_dir_from(None, Some("".into())),
        vendored_mnist_dir()
    );
    assert_eq!(resolve_mnist_dir_from(None, None), vendored_mnist_dir());
}

#[test]
fn the_repository_is_recognised_where_it_is_and_only_there() {
    // `.ci/run` is in the repository and in no package: an independent sign
    // of where this test was compiled.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let in_repository = root.join(".ci/run").is_file();
    assert_eq!(source_repository().is_some(), in_repository);
    if let Some(found) = source_repository() {
        assert_eq!(
            found.canonicalize().expect("root"),
            root.canonicalize().expect("root")
        );
    }
}

#[test]
fn available_mnist_is_the_env_folder_else_the_vendored_copy_in_the_repository_only() {
    assert_eq!(available_mnist_dir_from(None, false), None);
    assert_eq!(available_mnist_dir_from(Some("".into()), false), None);
    assert_eq!(
        available_mnist_dir_from(Some("/elsewhere".into()), false),
        Some(PathBuf::from("/elsewhere"))
    );
    assert_eq!(
        available_mnist_dir_from(Some("/elsewhere".into()), true),
        Some(PathBuf::from("/elsewhere"))
    );
    assert_eq!(
        available_mnist_dir_from(None, true),
        Some(vendored_mnist_dir())
    );
}
