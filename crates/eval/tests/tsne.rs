//! t-SNE for Fig. 4.12: the agreement measure, a seeded (byte-identical)
//! embedding that separates well-separated clusters, and a clear error when
//! the feature is off.

use candle_core::{Device, Tensor};
use sgbn_eval::{TrainJob, TsneJob, knn_agreement};
use sgbn_models::ConvNet;

#[test]
fn agreement_counts_points_whose_neighbours_share_their_label() {
    // Two tight groups far apart, labelled by group: every point agrees.
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for i in 0..12 {
        let g = (i % 2) as f32;
        points.push([100.0 * g + 0.01 * i as f32, 0.0]);
        labels.push(i as u32 % 2);
    }
    assert_eq!(knn_agreement(&points, &labels), 1.0);
    // The same points with labels alternating inside each group: nobody's
    // five neighbours are mostly of its own label.
    let mixed: Vec<u32> = (0..12).map(|i| (i / 2) as u32 % 2).collect();
    assert!(knn_agreement(&points, &mixed) < 0.5);
    assert_eq!(
        knn_agreement(&points[..3], &labels[..3]),
        0.0,
        "too few points"
    );
}

/// 60 images in three classes: noise around three different constant
/// images, far apart in pixel space.
fn three_blobs() -> sgbn_data::Dataset {
    let n = 60;
    let mut px = Vec::with_capacity(n * 784);
    for i in 0..n {
        let base = 0.1 + 0.4 * (i % 3) as f32;
        px.extend((0..784).map(|j| base + 0.01 * (((i * 7 + j * 13) % 11) as f32 / 11.0)));
    }
    let images = Tensor::from_vec(px, (n, 1, 28, 28), &Device::Cpu).expect("images");
    let labels = Tensor::from_vec(
        (0..n as u32).map(|i| i % 3).collect::<Vec<_>>(),
        n,
        &Device::Cpu,
    )
    .expect("labels");
    sgbn_data::Dataset::new(images, labels, 10).expect("data")
}

fn no_model(_: &TrainJob) -> sgbn_eval::Result<(ConvNet, f64)> {
    Err(sgbn_eval::EvalError::InvalidConfig("no model here".into()))
}

#[cfg(feature = "tsne")]
#[test]
fn a_seeded_embedding_is_reproducible_and_separates_clusters() {
    let test = three_blobs();
    let job = TsneJob::new(None, 0.3, 60, 300, 7);
    let a = job.run(&mut no_model, &test, &Device::Cpu).expect("t-SNE");
    let b = job.run(&mut no_model, &test, &Device::Cpu).expect("again");
    assert_eq!(a, b, "the same seed gives the same embedding");
    assert_eq!(a.embedding.len(), 60);
    assert!(a.agreement > 0.95, "agreement {}", a.agreement);
    let other = TsneJob::new(None, 0.3, 60, 300, 8)
        .run(&mut no_model, &test, &Device::Cpu)
        .expect("another seed");
    assert_ne!(other.embedding, a.embedding);
    let err = TsneJob::new(None, 0.3, 5, 300, 7)
        .run(&mut no_model, &test, &Device::Cpu)
        .expect_err("5 images");
    assert!(err.to_string().contains("at least 10"), "{err}");
}

#[cfg(not(feature = "tsne"))]
#[test]
fn without_the_feature_t_sne_says_what_to_turn_on() {
    let err = TsneJob::new(None, 0.3, 60, 300, 7)
        .run(&mut no_model, &three_blobs(), &Device::Cpu)
        .expect_err("no feature");
    assert!(err.to_string().contains("`tsne` feature"), "{err}");
}
