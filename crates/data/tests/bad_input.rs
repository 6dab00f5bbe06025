//! Every kind of bad input is a typed error naming the file; never a panic.

mod common;

use std::path::Path;

use common::{gzip, idx, write, write_tiny_mnist};
use sgbn_data::{
    Checksums, DataError, load_cifar10_binary, load_mnist, load_mnist_with, read_cifar10_batch,
    sha256_hex,
};

fn load_err(dir: &Path) -> DataError {
    load_mnist_with(dir, &Checksums::Skip).expect_err("loading must fail")
}

/// Writes a good tiny MNIST, then replaces one file.
fn tiny_with(file: &str, bytes: &[u8]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    write_tiny_mnist(tmp.path(), 3, false);
    write(&tmp.path().join(file), bytes);
    tmp
}

fn names_file(err: &DataError, file: &str) {
    let text = err.to_string();
    assert!(text.contains(file), "error does not name {file}: {text}");
}

#[test]
fn good_tiny_files_load_raw_and_gz() {
    for gz in [false, true] {
        let tmp = tempfile::tempdir().expect("tmp");
        write_tiny_mnist(tmp.path(), 3, gz);
        let m = load_mnist_with(tmp.path(), &Checksums::Skip).expect("loads");
        assert_eq!(m.train.images().dims(), [3, 1, 28, 28]);
        assert_eq!(m.train.label_vec().expect("labels"), [0, 1, 2]);
        let px: Vec<f32> = m
            .train
            .images()
            .flatten_all()
            .expect("flat")
            .to_vec1()
            .expect("v");
        assert_eq!(px[784], 1.0 / 255.0);
        assert_eq!(px[2 * 784 + 5], 2.0 / 255.0);
    }
}

#[test]
fn missing_directory_and_missing_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let err = load_err(&tmp.path().join("nowhere"));
    assert!(matches!(err, DataError::MissingFile { .. }), "{err}");
    names_file(&err, "nowhere");

    write_tiny_mnist(tmp.path(), 3, true);
    std::fs::remove_file(tmp.path().join("t10k-labels-idx1-ubyte.gz")).expect("rm");
    let err = load_err(tmp.path());
    assert!(matches!(err, DataError::MissingFile { .. }), "{err}");
    names_file(&err, "t10k-labels-idx1-ubyte");
}

#[test]
fn a_data_file_name_taken_by_a_directory_says_so() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_tiny_mnist(tmp.path(), 3, false);
    let file = tmp.path().join("t10k-labels-idx1-ubyte");
    std::fs::remove_file(&file).expect("rm");
    std::fs::create_dir(&file).expect("a directory in its place");
    let err = load_err(tmp.path());
    assert!(matches!(err, DataError::NotAFile { .. }), "{err}");
    names_file(&err, "t10k-labels-idx1-ubyte");
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn wrong_magic_number() {
    // A label file (rank 1) where an image file (rank 3) belongs.
    let tmp = tiny_with("train-images-idx3-ubyte", &idx(1, &[3], &[0, 1, 2]));
    let err = load_err(tmp.path());
    assert!(
        matches!(
            err,
            DataError::BadMagic {
                expected: 0x0803,
                found: 0x0801,
                ..
            }
        ),
        "{err}"
    );
    names_file(&err, "train-images-idx3-ubyte");
}

#[test]
fn truncated_header_and_truncated_payload() {
    let tmp = tiny_with("train-labels-idx1-ubyte", &[0, 0, 8, 1, 0, 0]);
    let err = load_err(tmp.path());
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 8,
                found: 6,
                ..
            }
        ),
        "{err}"
    );
    names_file(&err, "train-labels-idx1-ubyte");

    // Header announces 5 images, payload holds 3.
    let tmp = tiny_with(
        "t10k-images-idx3-ubyte",
        &idx(3, &[5, 28, 28], &[0; 3 * 784]),
    );
    let err = load_err(tmp.path());
    assert!(
        matches!(err, DataError::Truncated { expected, found, .. }
            if expected == 16 + 5 * 784 && found == 16 + 3 * 784),
        "{err}"
    );
    names_file(&err, "t10k-images-idx3-ubyte");
}

#[test]
fn header_count_differs_from_payload() {
    // Header announces 2 labels, payload holds 3.
    let tmp = tiny_with("t10k-labels-idx1-ubyte", &idx(1, &[2], &[0, 1, 2]));
    let err = load_err(tmp.path());
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                header_count: 2,
                ..
            }
        ),
        "{err}"
    );
    names_file(&err, "t10k-labels-idx1-ubyte");
}

#[test]
fn wrong_image_dimensions() {
    let tmp = tiny_with(
        "train-images-idx3-ubyte",
        &idx(3, &[3, 27, 28], &[0; 3 * 27 * 28]),
    );
    let err = load_err(tmp.path());
    assert!(matches!(err, DataError::BadDimensions { .. }), "{err}");
    names_file(&err, "train-images-idx3-ubyte");
}

#[test]
fn label_out_of_range() {
    let tmp = tiny_with("train-labels-idx1-ubyte", &idx(1, &[3], &[0, 12, 2]));
    let err = load_err(tmp.path());
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                index: 1,
                label: 12,
                num_classes: 10,
                ..
            }
        ),
        "{err}"
    );
    names_file(&err, "train-labels-idx1-ubyte");
}

#[test]
fn image_and_label_counts_differ() {
    let tmp = tiny_with("t10k-labels-idx1-ubyte", &idx(1, &[4], &[0, 1, 2, 3]));
    let err = load_err(tmp.path());
    assert!(
        matches!(
            err,
            DataError::ImageLabelMismatch {
                n_images: 3,
                n_labels: 4,
                ..
            }
        ),
        "{err}"
    );
    names_file(&err, "t10k-images-idx3-ubyte");
    names_file(&err, "t10k-labels-idx1-ubyte");
}

#[test]
fn corrupt_gzip_stream() {
    let mut bad = gzip(&idx(1, &[3], &[0, 1, 2]));
    let n = bad.len();
    bad.truncate(n / 2);
    let tmp = tempfile::tempdir().expect("tmp");
    write_tiny_mnist(tmp.path(), 3, true);
    write(&tmp.path().join("train-labels-idx1-ubyte.gz"), &bad);
    let err = load_err(tmp.path());
    assert!(matches!(err, DataError::Decompress { .. }), "{err}");
    names_file(&err, "train-labels-idx1-ubyte.gz");
}

#[test]
fn checksum_mismatch_against_sums_file_and_canonical() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_tiny_mnist(tmp.path(), 3, true);
    // Default policy with no SHA256SUMS: the canonical MNIST digests, which
    // the tiny files do not have.
    let err = load_mnist(tmp.path()).expect_err("not canonical MNIST");
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    names_file(&err, "train-images-idx3-ubyte");

    // A SHA256SUMS that is right for three files and wrong for one.
    let names = [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];
    let mut sums = String::new();
    for name in names {
        let bytes = sgbn_data::read_maybe_gz(&tmp.path().join(format!("{name}.gz"))).expect("r");
        let mut digest = sha256_hex(&bytes);
        if name == "t10k-images-idx3-ubyte" {
            digest = "0".repeat(64);
        }
        sums.push_str(&format!("{digest}  {name}\n"));
    }
    write(&tmp.path().join("SHA256SUMS"), sums.as_bytes());
    let err = load_mnist(tmp.path()).expect_err("one digest is wrong");
    assert!(
        matches!(&err, DataError::ChecksumMismatch { expected, .. } if *expected == "0".repeat(64)),
        "{err}"
    );
    names_file(&err, "t10k-images-idx3-ubyte");

    // Fix the digest: now it loads.
    let fixed = sums.replace(&"0".repeat(64), &{
        let b = sgbn_data::read_maybe_gz(&tmp.path().join("t10k-images-idx3-ubyte.gz")).expect("r");
        sha256_hex(&b)
    });
    write(&tmp.path().join("SHA256SUMS"), fixed.as_bytes());
    load_mnist(tmp.path()).expect("all digests right");
}

#[test]
fn malformed_or_incomplete_sums_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_tiny_mnist(tmp.path(), 3, false);
    write(&tmp.path().join("SHA256SUMS"), b"not a checksum line\n");
    let err = load_mnist(tmp.path()).expect_err("malformed");
    assert!(
        matches!(err, DataError::BadChecksumFile { line: 1, .. }),
        "{err}"
    );
    names_file(&err, "SHA256SUMS");

    write(
        &tmp.path().join("SHA256SUMS"),
        format!("{}  some-other-file\n", "a".repeat(64)).as_bytes(),
    );
    let err = load_mnist(tmp.path()).expect_err("no entry");
    assert!(matches!(err, DataError::NoChecksumListed { .. }), "{err}");
    names_file(&err, "train-images-idx3-ubyte");
}

fn cifar_record(label: u8, fill: [u8; 3]) -> Vec<u8> {
    let mut r = vec![label];
    for value in fill {
        r.extend(std::iter::repeat_n(value, 1024));
    }
    r
}

#[test]
fn cifar_binary_small_file_loads_with_plane_order() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut bytes = cifar_record(3, [255, 0, 51]);
    bytes.extend(cifar_record(9, [0, 102, 0]));
    let path = tmp.path().join("test_batch.bin");
    write(&path, &bytes);
    let d = read_cifar10_batch(&path).expect("loads");
    assert_eq!(d.images().dims(), [2, 3, 32, 32]);
    assert_eq!(d.label_vec().expect("labels"), [3, 9]);
    let px = d
        .images()
        .flatten_all()
        .expect("f")
        .to_vec1::<f32>()
        .expect("v");
    assert_eq!((px[0], px[1024], px[2048]), (1.0, 0.0, 0.2));
    assert_eq!(px[3072 + 1024 + 7], 0.4);

    // The whole set: five training batches and the test batch.
    for k in 1..=5 {
        write(&tmp.path().join(format!("data_batch_{k}.bin")), &bytes);
    }
    let c = load_cifar10_binary(tmp.path()).expect("loads");
    assert_eq!((c.train.len(), c.test.len()), (10, 2));
}

#[test]
fn cifar_binary_bad_inputs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("data_batch_1.bin");
    let mut bytes = cifar_record(1, [0, 0, 0]);
    bytes.extend(&cifar_record(2, [0, 0, 0])[..100]);
    write(&path, &bytes);
    let err = read_cifar10_batch(&path).expect_err("truncated");
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 6146,
                found: 3173,
                ..
            }
        ),
        "{err}"
    );
    names_file(&err, "data_batch_1.bin");

    write(&path, &cifar_record(10, [0, 0, 0]));
    let err = read_cifar10_batch(&path).expect_err("label 10");
    assert!(
        matches!(err, DataError::LabelOutOfRange { label: 10, .. }),
        "{err}"
    );

    write(&path, &cifar_record(1, [0, 0, 0]));
    let err = load_cifar10_binary(tmp.path()).expect_err("no data_batch_2");
    assert!(matches!(err, DataError::MissingFile { .. }), "{err}");
    names_file(&err, "data_batch_2.bin");
}

#[test]
fn cifar_binary_is_verified_against_a_sha256sums_file_when_there_is_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bytes = cifar_record(4, [1, 2, 3]);
    let mut sums = String::new();
    for name in (1..=5)
        .map(|k| format!("data_batch_{k}.bin"))
        .chain(["test_batch.bin".to_string()])
    {
        write(&tmp.path().join(&name), &bytes);
        sums.push_str(&format!("{}  {name}\n", sgbn_data::sha256_hex(&bytes)));
    }
    std::fs::write(tmp.path().join("SHA256SUMS"), &sums).expect("sums");
    load_cifar10_binary(tmp.path()).expect("verified");

    // One changed byte in one file is named.
    let mut changed = bytes.clone();
    changed[100] ^= 1;
    write(&tmp.path().join("data_batch_3.bin"), &changed);
    let err = load_cifar10_binary(tmp.path()).expect_err("changed");
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    names_file(&err, "data_batch_3.bin");

    // A file the sums do not list is refused, not silently accepted.
    write(&tmp.path().join("data_batch_3.bin"), &bytes);
    let unlisted: String = sums
        .lines()
        .filter(|l| !l.ends_with("test_batch.bin"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(tmp.path().join("SHA256SUMS"), unlisted).expect("sums");
    let err = load_cifar10_binary(tmp.path()).expect_err("unlisted");
    assert!(matches!(err, DataError::NoChecksumListed { .. }), "{err}");
    names_file(&err, "test_batch.bin");
}
