//! The vendored MNIST loads whole, verified against its checksums.

use candle_core::DType;
use sgbn_data::{
    Checksums, MNIST_FILES, load_mnist, load_mnist_with, resolve_mnist_dir_from, vendored_mnist_dir,
};

#[test]
fn vendored_mnist_loads_and_verifies() {
    let dir = vendored_mnist_dir();
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
    let mnist = load_mnist_with(&vendored_mnist_dir(), &Checksums::Canonical).expect("loads");
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
