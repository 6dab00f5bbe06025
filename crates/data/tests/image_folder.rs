//! Class-per-folder PNG/JPEG loading (feature `image-folder`).
#![cfg(feature = "image-folder")]

use std::path::Path;

use image::{Rgb, RgbImage};
use sgbn_data::{
    CIFAR10_CLASSES, DataError, ImageFolderConfig, load_cifar10_jpeg, load_image_folder,
};

fn png(path: &Path, w: u32, h: u32, colour: [u8; 3]) {
    RgbImage::from_pixel(w, h, Rgb(colour))
        .save(path)
        .expect("save png");
}

#[test]
fn loads_classes_in_sorted_order_as_chw() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (class, colour) in [("cat", [255, 0, 0]), ("ant", [0, 255, 51])] {
        std::fs::create_dir(tmp.path().join(class)).expect("mkdir");
        png(&tmp.path().join(class).join("b.png"), 4, 3, colour);
        png(&tmp.path().join(class).join("a.png"), 4, 3, colour);
    }
    std::fs::write(tmp.path().join("ant").join("notes.txt"), "ignored").expect("w");
    let f = load_image_folder(tmp.path(), &ImageFolderConfig::default()).expect("loads");
    assert_eq!(f.class_names, ["ant", "cat"]);
    assert_eq!(f.dataset.images().dims(), [4, 3, 3, 4]);
    assert_eq!(f.dataset.label_vec().expect("l"), [0, 0, 1, 1]);
    assert!(f.files[0].ends_with("ant/a.png") && f.files[1].ends_with("ant/b.png"));
    let px = f
        .dataset
        .images()
        .flatten_all()
        .expect("f")
        .to_vec1::<f32>()
        .expect("v");
    // Image 0 (ant): R plane 0, G plane 1, B plane 0.2.
    assert_eq!((px[0], px[12], px[24]), (0.0, 1.0, 0.2));
    // Image 2 (cat): R plane 1.
    assert_eq!(px[2 * 36], 1.0);

    let grey = ImageFolderConfig {
        grayscale: true,
        ..Default::default()
    };
    let g = load_image_folder(tmp.path(), &grey).expect("loads");
    assert_eq!(g.dataset.images().dims(), [4, 1, 3, 4]);
}

#[test]
fn mixed_sizes_corrupt_files_and_empty_roots_are_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let err = load_image_folder(tmp.path(), &ImageFolderConfig::default()).expect_err("empty");
    assert!(matches!(err, DataError::MissingFile { .. }), "{err}");

    std::fs::create_dir(tmp.path().join("a")).expect("mkdir");
    png(&tmp.path().join("a").join("1.png"), 4, 4, [0, 0, 0]);
    png(&tmp.path().join("a").join("2.png"), 5, 4, [0, 0, 0]);
    let err = load_image_folder(tmp.path(), &ImageFolderConfig::default()).expect_err("sizes");
    assert!(matches!(err, DataError::BadImage { .. }), "{err}");
    assert!(err.to_string().contains("2.png"), "{err}");

    std::fs::remove_file(tmp.path().join("a").join("2.png")).expect("rm");
    std::fs::write(tmp.path().join("a").join("3.jpg"), b"not a jpeg").expect("w");
    let err = load_image_folder(tmp.path(), &ImageFolderConfig::default()).expect_err("corrupt");
    assert!(matches!(err, DataError::BadImage { .. }), "{err}");
    assert!(err.to_string().contains("3.jpg"), "{err}");
}

#[test]
fn cifar10_jpeg_layout_uses_official_label_order() {
    let tmp = tempfile::tempdir().expect("tmp");
    for split in ["train", "test"] {
        for (label, class) in CIFAR10_CLASSES.iter().enumerate() {
            let dir = tmp.path().join("cifar10-jpeg").join(split).join(class);
            std::fs::create_dir_all(&dir).expect("mkdir");
            let v = (label * 25) as u8;
            RgbImage::from_pixel(32, 32, Rgb([v, v, v]))
                .save(dir.join("0000.jpg"))
                .expect("save jpeg");
        }
    }
    let c = load_cifar10_jpeg(tmp.path()).expect("loads");
    assert_eq!(c.train.images().dims(), [10, 3, 32, 32]);
    assert_eq!(
        c.test.label_vec().expect("l"),
        (0..10).collect::<Vec<u32>>()
    );
    // JPEG is lossy, but a flat grey survives within a few levels.
    let px = c
        .train
        .images()
        .flatten_all()
        .expect("f")
        .to_vec1::<f32>()
        .expect("v");
    let truck = px[9 * 3072];
    assert!((truck - 225.0 / 255.0).abs() < 4.0 / 255.0, "{truck}");
}
