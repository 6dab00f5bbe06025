//! The CIFAR-10 JPEG stand-in read from its archive: layout, order, labels,
//! and every way an archive can be wrong.

use std::path::Path;

use sgbn_data::{DataError, parse_cifar10_jpeg_archive};

/// A 32 × 32 JPEG whose pixels are all `value`, in each channel.
fn jpeg(value: u8, size: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(size, size, image::Rgb([value, value / 2, 255 - value]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    out.into_inner()
}

/// Archive entries: `(name, bytes)`.
type Entries<'a> = Vec<(&'a str, Vec<u8>)>;

/// A tar.gz of `(name, bytes)` entries.
fn archive(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .expect("append");
    }
    builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .expect("finish")
}

fn parse(bytes: &[u8]) -> Result<sgbn_data::Cifar10, DataError> {
    parse_cifar10_jpeg_archive(Path::new("test.tar.gz"), bytes)
}

#[test]
fn images_are_ordered_by_name_then_class_with_official_labels() {
    let bytes = archive(&[
        ("cifar10-jpeg/train/truck/0001.jpg", jpeg(200, 32)),
        ("cifar10-jpeg/train/truck/0000.jpg", jpeg(180, 32)),
        ("cifar10-jpeg/train/airplane/0001.jpg", jpeg(40, 32)),
        ("cifar10-jpeg/train/airplane/0000.jpg", jpeg(20, 32)),
        ("cifar10-jpeg/test/cat/0000.jpg", jpeg(120, 32)),
    ]);
    let data = parse(&bytes).expect("parse");
    assert_eq!(data.train.images().dims(), [4, 3, 32, 32]);
    assert_eq!(data.test.images().dims(), [1, 3, 32, 32]);
    // airplane = 0, cat = 3, truck = 9; ordered by file name, then class
    // (the classes interleaved): airplane/0000, truck/0000, airplane/0001,
    // truck/0001.
    assert_eq!(data.train.label_vec().expect("labels"), [0, 9, 0, 9]);
    assert_eq!(data.test.label_vec().expect("labels"), [3]);
    // The red plane of each image is near its value / 255 (JPEG is lossy, so
    // within a few levels), and images keep their order.
    let red: Vec<f32> = (0..4)
        .map(|i| {
            data.train
                .images()
                .get(i)
                .and_then(|t| t.get(0))
                .and_then(|t| t.mean_all())
                .and_then(|t| t.to_scalar::<f32>())
                .expect("mean")
        })
        .collect();
    for (got, want) in red.iter().zip([20.0, 180.0, 40.0, 200.0]) {
        assert!((got * 255.0 - want).abs() < 4.0, "{got} vs {want}");
    }
}

#[test]
fn wrong_archives_are_refused_naming_the_entry() {
    let cases: Vec<(Entries<'_>, &str)> = vec![
        (
            vec![("cifar10-jpeg/train/unicorn/0000.jpg", jpeg(1, 32))],
            "\"unicorn\" is not a CIFAR-10 class",
        ),
        (
            vec![("cifar10-jpeg/valid/cat/0000.jpg", jpeg(1, 32))],
            "split \"valid\" is not train or test",
        ),
        (
            vec![("cifar10-jpeg/train/cat/0000.jpg", jpeg(1, 16))],
            "is 16x16, not 32x32",
        ),
        (
            vec![("cifar10-jpeg/train/cat/0000.jpg", b"not a jpeg".to_vec())],
            "cannot decode JPEG",
        ),
        (
            vec![("cifar10-jpeg/train/0000.jpg", jpeg(1, 32))],
            "is not {train,test}/<class>/<image>.jpg",
        ),
        (
            vec![("cifar10-jpeg/train/cat/0000.jpg", jpeg(1, 32))],
            "no test images",
        ),
    ];
    for (entries, expected) in cases {
        let err = parse(&archive(&entries))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert!(err.contains("test.tar.gz"), "{err}");
    }
    let err = parse(b"plain bytes").expect_err("must fail").to_string();
    assert!(err.contains("test.tar.gz"), "{err}");
}

#[test]
fn an_archive_with_another_digest_is_refused_before_decoding() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("cifar10-jpeg.tar.gz");
    std::fs::write(
        &path,
        archive(&[
            ("cifar10-jpeg/train/cat/0000.jpg", jpeg(1, 32)),
            ("cifar10-jpeg/test/cat/0000.jpg", jpeg(1, 32)),
        ]),
    )
    .expect("write");
    let err = sgbn_data::load_cifar10_jpeg_archive(&path).expect_err("must fail");
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    assert!(err.to_string().contains("efac85c8"), "{err}");
}
