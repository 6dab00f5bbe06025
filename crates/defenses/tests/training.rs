//! Training on a small MNIST subset: it learns, it is deterministic, it
//! resumes exactly after an interruption, and a NaN loss keeps the last good
//! checkpoint.

mod common;

use candle_core::{Device, Tensor};
use common::{StopAt, subsets};
use sgbn_data::Dataset;
use sgbn_defenses::{EarlyStopping, EpochLog, Quiet, TrainConfig, TrainError, train};
use sgbn_estimators::SeededRng;
use sgbn_models::{Checkpoint, Classifier, ConvNet, ForwardContext, ModelSpec, accuracy};

fn weights(m: &ConvNet) -> Vec<Vec<f32>> {
    m.state()
        .into_iter()
        .map(|(_, v)| {
            v.as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1())
                .expect("w")
        })
        .collect()
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        early_stopping: None,
        seed: 5,
        ..TrainConfig::default()
    }
}

fn model(name: &str) -> ConvNet {
    ConvNet::new(&ModelSpec::named(name).expect("spec"), 1, &Device::Cpu).expect("model")
}

#[test]
fn cnn_learns_mnist_from_two_thousand_images() {
    let (tr, te) = subsets(2000, 1000);
    let m = model("cnn");
    let report = train(&m, &tr, None, &config(2), None, &mut Quiet).expect("train");
    assert_eq!(report.epochs.len(), 2);
    assert!(report.epochs[1].train_loss < report.epochs[0].train_loss);
    let acc = accuracy(
        &m,
        te.images(),
        te.labels(),
        500,
        ForwardContext::eval(1.0),
        &mut <SeededRng as rand::SeedableRng>::seed_from_u64(0),
    )
    .expect("acc");
    // Far above chance (10 %): the network learns.
    assert!(acc.fraction() > 0.7, "test accuracy {}", acc.fraction());
}

#[test]
fn same_seed_gives_identical_weights() {
    let (tr, _) = subsets(300, 10);
    let a = model("cnn-bin");
    let b = model("cnn-bin");
    train(&a, &tr, None, &config(1), None, &mut Quiet).expect("a");
    train(&b, &tr, None, &config(1), None, &mut Quiet).expect("b");
    assert_eq!(weights(&a), weights(&b));
    let c = model("cnn-bin");
    train(
        &c,
        &tr,
        None,
        &TrainConfig {
            seed: 6,
            ..config(1)
        },
        None,
        &mut Quiet,
    )
    .expect("c");
    assert_ne!(weights(&a), weights(&c));
}

#[test]
fn a_run_interrupted_mid_epoch_resumes_to_the_same_weights() {
    let (tr, val) = subsets(400, 100);
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = TrainConfig {
        early_stopping: Some(EarlyStopping { patience: 5 }),
        ..config(3)
    };

    let straight = model("cnn-bin");
    let full = train(
        &straight,
        &tr,
        Some(&val),
        &cfg,
        Some(&tmp.path().join("a.st")),
        &mut Quiet,
    )
    .expect("uninterrupted");

    let path = tmp.path().join("b.st");
    let resumed = model("cnn-bin");
    let err = train(
        &resumed,
        &tr,
        Some(&val),
        &cfg,
        Some(&path),
        &mut StopAt(1, 3),
    )
    .expect_err("interrupted");
    assert!(matches!(
        err,
        TrainError::Interrupted { epoch: 1, batch: 3 }
    ));
    // A fresh process: a new model object, the checkpoint of epoch 0 on disk.
    let again = model("cnn-bin");
    let report = train(&again, &tr, Some(&val), &cfg, Some(&path), &mut Quiet).expect("resume");
    assert_eq!(weights(&again), weights(&straight));
    assert_eq!(report.epochs.len(), 3);
    let strip = |e: &[EpochLog]| {
        e.iter()
            .map(|l| (l.train_loss, l.validation_accuracy))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&report.epochs), strip(&full.epochs));

    // A finished run re-run does nothing more.
    let done = model("cnn-bin");
    let report = train(&done, &tr, Some(&val), &cfg, Some(&path), &mut Quiet).expect("done");
    assert_eq!(report.epochs.len(), 3);
    assert_eq!(weights(&done), weights(&straight));

    // Another configuration does not resume from it.
    let err = train(
        &model("cnn-bin"),
        &tr,
        Some(&val),
        &TrainConfig { seed: 9, ..cfg },
        Some(&path),
        &mut Quiet,
    )
    .expect_err("mismatch");
    assert!(matches!(err, TrainError::ResumeMismatch { .. }), "{err}");
}

#[test]
fn a_nan_loss_stops_training_without_writing_a_checkpoint() {
    let (tr, _) = subsets(200, 10);
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("ck.st");
    // A learning rate of 1e30 makes the weights overflow within a few steps.
    let mut cfg = config(1);
    cfg.adam.lr = 1e30;
    let err = train(&model("cnn"), &tr, None, &cfg, Some(&path), &mut Quiet).expect_err("nan");
    assert!(
        matches!(err, TrainError::NonFiniteLoss { epoch: 0, .. }),
        "{err}"
    );
    assert!(!path.exists(), "no checkpoint of a diverged epoch");
}

#[test]
fn non_finite_inputs_stop_training_and_keep_the_last_good_checkpoint() {
    let (tr, _) = subsets(200, 10);
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("ck.st");
    let m = model("cnn");
    train(&m, &tr, None, &config(1), Some(&path), &mut Quiet).expect("epoch 0");
    let good = std::fs::read(&path).expect("checkpoint");

    // ReLU maps NaN to 0, so a NaN pixel would not show in the loss: the
    // trainer checks its inputs.
    let poisoned = {
        let mut px = tr
            .images()
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("px");
        px[1234] = f32::NAN;
        let images = Tensor::from_vec(px, tr.images().shape(), &Device::Cpu).expect("images");
        Dataset::new(images, tr.labels().clone(), 10).expect("dataset")
    };
    let err = train(&m, &poisoned, None, &config(2), Some(&path), &mut Quiet).expect_err("nan");
    assert!(
        matches!(err, TrainError::NonFiniteInput { epoch: 1, .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("checkpoint"),
        good,
        "checkpoint untouched"
    );
    let ck = Checkpoint::read(&path, &Device::Cpu).expect("still readable");
    assert!(ck.metadata["train.log"].contains("\"epoch\":0"));
}

#[test]
fn early_stopping_needs_validation_and_bad_settings_are_errors() {
    let (tr, _) = subsets(100, 10);
    let m = model("cnn");
    let cfg = TrainConfig {
        early_stopping: Some(EarlyStopping { patience: 1 }),
        ..config(1)
    };
    assert!(matches!(
        train(&m, &tr, None, &cfg, None, &mut Quiet),
        Err(TrainError::InvalidConfig(_))
    ));
    let bad = TrainConfig {
        batch_size: 0,
        ..config(1)
    };
    assert!(train(&m, &tr, None, &bad, None, &mut Quiet).is_err());
    let bad = TrainConfig {
        l2: -1.0,
        ..config(1)
    };
    assert!(train(&m, &tr, None, &bad, None, &mut Quiet).is_err());
}

/// Adam's moments must not hold the autograd graph of the step that made
/// them: otherwise every step keeps the previous one alive and memory grows
/// without bound (a 60,000-image epoch of the CNN was killed at 24 GB).
#[test]
fn optimizer_state_holds_no_autograd_graph() {
    let (tr, _) = subsets(100, 10);
    let m = model("cnn");
    let mut adam = sgbn_defenses::Adam::new(m.trainable(), Default::default()).expect("adam");
    for step in 0..2 {
        let (x, y) = tr
            .batch(&(step * 50..step * 50 + 50).collect::<Vec<_>>())
            .expect("batch");
        let mut rng = sgbn_defenses::batch_rng(0, 0, step as u64);
        let logits = m
            .forward(&x, ForwardContext::train(1.0), &mut rng)
            .expect("forward");
        let loss = candle_nn::loss::cross_entropy(&logits, &y).expect("loss");
        adam.step(&loss.backward().expect("backward"))
            .expect("step");
    }
    let (state, steps) = adam.state();
    assert_eq!(steps, 2);
    assert_eq!(state.len(), 2 * m.trainable().len());
    for (name, t) in &state {
        assert!(!t.track_op(), "{name} keeps an autograd graph");
    }
    for (name, v) in m.trainable() {
        let t = v.as_tensor();
        assert!(t.is_variable(), "{name} is no longer a variable");
    }
}
