//! Mini-batch order, subsets, validation split and the toy regression set.

use candle_core::{Device, Tensor};
use sgbn_data::{Dataset, MiniBatches, ToyRegression};

/// 50 examples, label = index % 5, image = the index itself.
fn toy_dataset() -> Dataset {
    let n = 50;
    let images = Tensor::arange(0f32, n as f32, &Device::Cpu)
        .and_then(|t| t.reshape((n, 1, 1, 1)))
        .expect("images");
    let labels =
        Tensor::from_vec((0..n as u32).map(|i| i % 5).collect(), n, &Device::Cpu).expect("labels");
    Dataset::new(images, labels, 5).expect("dataset")
}

fn ids(d: &Dataset) -> Vec<usize> {
    d.images()
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("ids")
        .into_iter()
        .map(|v| v as usize)
        .collect()
}

#[test]
fn each_epoch_is_a_permutation_reshuffled_by_epoch() {
    let mb = MiniBatches::new(103, 10, 42).expect("mb");
    assert_eq!(mb.batches_per_epoch(), 11);
    let mut seen: Vec<usize> = mb.epoch(0).flatten().collect();
    let e0 = seen.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..103).collect::<Vec<_>>());
    let e1: Vec<usize> = mb.epoch(1).flatten().collect();
    assert_ne!(e0, e1, "epochs must be reshuffled");
    assert_ne!(e0, (0..103).collect::<Vec<_>>(), "epoch 0 must be shuffled");
    let sizes: Vec<usize> = mb.epoch(0).map(|b| b.len()).collect();
    assert_eq!(sizes.last(), Some(&3));
}

#[test]
fn same_seed_same_order_and_resume_sees_the_same_batches() {
    let a = MiniBatches::new(60, 7, 9).expect("mb");
    let b = MiniBatches::new(60, 7, 9).expect("mb");
    for epoch in 0..3 {
        assert_eq!(
            a.epoch(epoch).collect::<Vec<_>>(),
            b.epoch(epoch).collect::<Vec<_>>()
        );
    }
    // Resuming at epoch 2, batch 4 (without running epochs 0–1) gives the
    // batches an uninterrupted run would see.
    let full: Vec<Vec<usize>> = a.epoch(2).collect();
    let resumed: Vec<Vec<usize>> = b.epoch(2).skip(4).collect();
    assert_eq!(resumed, full[4..]);
    let other = MiniBatches::new(60, 7, 10).expect("mb");
    assert_ne!(a.epoch_order(0), other.epoch_order(0));
}

#[test]
fn drop_last_unshuffled_and_bad_batch_size() {
    let mb = MiniBatches::new(23, 5, 1)
        .expect("mb")
        .drop_last(true)
        .shuffle(false);
    let batches: Vec<Vec<usize>> = mb.epoch(3).collect();
    assert_eq!(batches.len(), 4);
    assert_eq!(batches[0], vec![0, 1, 2, 3, 4]);
    assert!(MiniBatches::new(10, 0, 1).is_err());
}

#[test]
fn batches_select_the_right_examples() {
    let d = toy_dataset();
    let (x, y) = d.batch(&[7, 3, 49]).expect("batch");
    assert_eq!(
        x.flatten_all().expect("f").to_vec1::<f32>().expect("v"),
        [7.0, 3.0, 49.0]
    );
    assert_eq!(y.to_vec1::<u32>().expect("v"), [2, 3, 4]);
    assert!(d.select(&[50]).is_err());
}

#[test]
fn first_and_class_balanced_subsets() {
    let d = toy_dataset();
    assert_eq!(ids(&d.first(4).expect("first")), [0, 1, 2, 3]);
    assert!(d.first(51).is_err());

    // 12 over 5 classes: 3,3,2,2,2 — earliest of each class, in data order.
    let b = d.class_balanced(12).expect("balanced");
    assert_eq!(ids(&b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let mut counts = [0; 5];
    for l in b.label_vec().expect("labels") {
        counts[l as usize] += 1;
    }
    assert_eq!(counts, [3, 3, 2, 2, 2]);
    assert_eq!(ids(&d.class_balanced(12).expect("again")), ids(&b));
    assert!(d.class_balanced(51).is_err());
}

#[test]
fn validation_split_is_disjoint_seeded_and_complete() {
    let d = toy_dataset();
    let (train, val) = d.split_validation(10, 3).expect("split");
    assert_eq!((train.len(), val.len()), (40, 10));
    let (t, v) = (ids(&train), ids(&val));
    let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
    assert!(
        v.windows(2).all(|w| w[0] < w[1]),
        "validation keeps data order"
    );
    assert_ne!(
        v,
        (0..10).collect::<Vec<_>>(),
        "validation is not just the first 10"
    );
    let (_, again) = d.split_validation(10, 3).expect("split");
    assert_eq!(ids(&again), v);
    let (_, other) = d.split_validation(10, 4).expect("split");
    assert_ne!(ids(&other), v);
    assert!(d.split_validation(0, 1).is_err());
    assert!(d.split_validation(50, 1).is_err());
}

#[test]
fn dataset_rejects_inconsistent_tensors() {
    let images = Tensor::zeros((3, 1, 2, 2), candle_core::DType::F32, &Device::Cpu).expect("i");
    let labels = Tensor::new(&[0u32, 1], &Device::Cpu).expect("l");
    assert!(Dataset::new(images.clone(), labels, 2).is_err());
    let labels = Tensor::new(&[0u32, 1, 2], &Device::Cpu).expect("l");
    assert!(Dataset::new(images.clone(), labels.clone(), 2).is_err());
    let float_labels = labels.to_dtype(candle_core::DType::F32).expect("f");
    assert!(Dataset::new(images, float_labels, 3).is_err());
}

#[test]
fn toy_regression_is_linspace_abs_with_seeded_split() {
    let t = ToyRegression::generate(5, &Device::Cpu).expect("toy");
    assert_eq!(t.train_x.dims(), [210, 1]);
    assert_eq!(t.test_x.dims(), [90, 1]);
    let v = |x: &Tensor| x.flatten_all().expect("f").to_vec1::<f32>().expect("v");
    let (tx, ty, sx, sy) = (v(&t.train_x), v(&t.train_y), v(&t.test_x), v(&t.test_y));
    for (x, y) in tx.iter().zip(&ty).chain(sx.iter().zip(&sy)) {
        assert_eq!(*y, x.abs());
    }
    let mut all: Vec<f32> = tx.iter().chain(&sx).copied().collect();
    all.sort_by(f32::total_cmp);
    assert_eq!((all[0], all[299]), (-1.0, 1.0));
    let step = 2.0 / 299.0;
    assert!(
        all.windows(2)
            .all(|w| ((w[1] - w[0]) as f64 - step).abs() < 1e-6)
    );
    let again = ToyRegression::generate(5, &Device::Cpu).expect("toy");
    assert_eq!(v(&again.test_x), sx);
    let other = ToyRegression::generate(6, &Device::Cpu).expect("toy");
    assert_ne!(v(&other.test_x), sx);
}
