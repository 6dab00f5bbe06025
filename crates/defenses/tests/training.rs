//! Training on a small MNIST subset: it learns, it is deterministic, it
//! resumes exactly after an interruption, and a NaN loss keeps the last good
//! checkpoint.

mod common;

use candle_core::{Device, Tensor};
use common::{StopAt, subsets};
use sgbn_data::Dataset;
use sgbn_defenses::{
    EarlyStopping, EarlyStoppingRule, EpochLog, Quiet, TrainConfig, TrainError, train,
};
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
    let Some((tr, te)) = subsets(2000, 1000) else {
        return;
    };
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
    let Some((tr, _)) = subsets(300, 10) else {
        return;
    };
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
    let Some((tr, val)) = subsets(400, 100) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = TrainConfig {
        early_stopping: Some(EarlyStopping::epochs(5)),
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
    let Some((tr, _)) = subsets(200, 10) else {
        return;
    };
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
    let Some((tr, _)) = subsets(200, 10) else {
        return;
    };
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
    let Some((tr, _)) = subsets(100, 10) else {
        return;
    };
    let m = model("cnn");
    let cfg = TrainConfig {
        early_stopping: Some(EarlyStopping::epochs(1)),
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
    let Some((tr, _)) = subsets(100, 10) else {
        return;
    };
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

fn adam_steps(path: &std::path::Path) -> u64 {
    Checkpoint::read(path, &Device::Cpu)
        .expect("checkpoint")
        .metadata["train.adam_step"]
        .parse()
        .expect("step count")
}

/// The authors' rule stops inside an epoch, right after a checked step, and
/// a run interrupted before the stop resumes to the same weights and the
/// same stop (the rule's best loss and counter travel in the checkpoint).
#[test]
fn the_step_loss_rule_stops_mid_epoch_and_resumes_exactly() {
    let Some((tr, val)) = subsets(400, 100) else {
        return;
    };
    // 8 batches an epoch; a check after every step from step 4 on, 20
    // images each (noisy), stop after 3 checks without a lower loss.
    let rule = EarlyStoppingRule::StepLoss {
        every: 1,
        after: 4,
        batch: 20,
    };
    let cfg = TrainConfig {
        early_stopping: Some(EarlyStopping { patience: 2, rule }),
        ..config(8)
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let straight = model("cnn");
    let a = tmp.path().join("a.st");
    let full = train(&straight, &tr, Some(&val), &cfg, Some(&a), &mut Quiet).expect("straight");
    assert!(full.stopped_early, "the rule never stopped in 8 epochs");
    let steps = adam_steps(&a);
    assert!(steps > 5 && steps < 8 * 8, "stopped at step {steps}");
    assert!(
        !steps.is_multiple_of(8),
        "stopped at the end of an epoch: the test does not show a stop inside one"
    );
    let stop_epoch = ((steps - 1) / 8) as usize;
    assert!(
        stop_epoch >= 1,
        "stopped in the first epoch: nothing to resume"
    );
    assert_eq!(full.epochs.len(), stop_epoch + 1);

    // Interrupted in the epoch of the stop: the checkpoint of the epoch
    // before holds the rule's state, and that state is not trivial (else
    // the resume below would not show that it is restored).
    let b = tmp.path().join("b.st");
    let err = train(
        &model("cnn"),
        &tr,
        Some(&val),
        &cfg,
        Some(&b),
        &mut StopAt(stop_epoch, 0),
    )
    .expect_err("interrupted");
    assert!(matches!(err, TrainError::Interrupted { .. }));
    let state = Checkpoint::read(&b, &Device::Cpu)
        .expect("checkpoint")
        .metadata["train.step_loss_check"]
        .clone();
    assert!(
        !state.contains("\"without_improvement\":0"),
        "the saved state {state} has no checks without improvement"
    );
    let again = model("cnn");
    let resumed = train(&again, &tr, Some(&val), &cfg, Some(&b), &mut Quiet).expect("resume");
    assert!(resumed.stopped_early);
    assert_eq!(adam_steps(&b), steps);
    assert_eq!(weights(&again), weights(&straight));
    assert_eq!(resumed.epochs.len(), full.epochs.len());

    // The resumed run continues from the saved state, not from a fresh one:
    // a checkpoint whose state says "best loss 0, 2 checks without a lower
    // one" (edited in place, same length) stops at the first check after the
    // resume, step 8.
    let d = tmp.path().join("d.st");
    train(
        &model("cnn"),
        &tr,
        Some(&val),
        &cfg,
        Some(&d),
        &mut StopAt(1, 0),
    )
    .expect_err("interrupted");
    let bytes = std::fs::read(&d).expect("read");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let after = |pattern: &str| text.find(pattern).map(|i| i + pattern.len());
    let best_at = after("best\\\":").expect("best in the state");
    let best_len = text[best_at..]
        .find(|c: char| c != '.' && !c.is_ascii_digit())
        .expect("end of best");
    let miss_at = after("without_improvement\\\":").expect("counter");
    let mut edited = bytes.clone();
    for b in &mut edited[best_at..best_at + best_len] {
        if b.is_ascii_digit() {
            *b = b'0';
        }
    }
    edited[miss_at] = b'2';
    assert_eq!(edited.len(), bytes.len());
    std::fs::write(&d, &edited).expect("write");
    let report = train(&model("cnn"), &tr, Some(&val), &cfg, Some(&d), &mut Quiet)
        .expect("resume from the edited state");
    assert!(report.stopped_early);
    assert_eq!(
        adam_steps(&d),
        9,
        "did not stop at the first check after the resume"
    );

    // The default rule ignores steps: the same settings run whole epochs.
    let epochs = TrainConfig {
        early_stopping: Some(EarlyStopping::epochs(1)),
        ..config(2)
    };
    let c = tmp.path().join("c.st");
    train(
        &model("cnn"),
        &tr,
        Some(&val),
        &epochs,
        Some(&c),
        &mut Quiet,
    )
    .expect("epochs");
    assert!(adam_steps(&c).is_multiple_of(8));
}

#[test]
fn the_step_loss_rule_refuses_zero_sizes() {
    let Some((tr, val)) = subsets(100, 20) else {
        return;
    };
    for (every, batch) in [(0, 10), (10, 0)] {
        let cfg = TrainConfig {
            early_stopping: Some(EarlyStopping {
                patience: 1,
                rule: EarlyStoppingRule::StepLoss {
                    every,
                    after: 0,
                    batch,
                },
            }),
            ..config(1)
        };
        let err =
            train(&model("cnn"), &tr, Some(&val), &cfg, None, &mut Quiet).expect_err("zero size");
        assert!(matches!(err, TrainError::InvalidConfig(m) if m.contains("at least 1")));
    }
}

#[test]
fn a_finished_run_of_more_epochs_or_another_configuration_is_refused_naming_why() {
    let Some((tr, _)) = subsets(200, 10) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("run.st");
    train(
        &model("cnn"),
        &tr,
        None,
        &config(3),
        Some(&path),
        &mut Quiet,
    )
    .expect("3 epochs");

    // Asked for fewer epochs than the checkpoint holds: not the old model.
    let err = train(
        &model("cnn"),
        &tr,
        None,
        &config(2),
        Some(&path),
        &mut Quiet,
    )
    .expect_err("more epochs than asked");
    let msg = err.to_string();
    assert!(matches!(err, TrainError::ResumeMismatch { .. }), "{msg}");
    assert!(
        msg.contains("3 finished epochs") && msg.contains("2 asked for"),
        "{msg}"
    );

    // Another configuration: the message names the setting and both values.
    let err = train(
        &model("cnn"),
        &tr,
        None,
        &TrainConfig {
            batch_size: 25,
            ..config(3)
        },
        Some(&path),
        &mut Quiet,
    )
    .expect_err("another batch size");
    let msg = err.to_string();
    assert!(msg.contains("batch_size: 50 → 25"), "{msg}");

    // Extending the run is still allowed.
    let report = train(
        &model("cnn"),
        &tr,
        None,
        &config(4),
        Some(&path),
        &mut Quiet,
    )
    .expect("extend to 4 epochs");
    assert_eq!(report.epochs.len(), 4);
}

#[test]
fn epoch_logs_round_trip_exactly_through_json_and_carry_no_timing() {
    use rand::{Rng, SeedableRng};
    let mut rng = SeededRng::seed_from_u64(12);
    // Losses and accuracies as a checkpoint stores them: every bit must
    // come back (serde_json's `float_roundtrip`), or a resumed run's
    // metrics differ in the last digits from an uninterrupted one's.
    let logs: Vec<EpochLog> = (0..20_000)
        .map(|epoch| EpochLog {
            epoch,
            train_loss: rng.random::<f64>() * 3.0,
            train_accuracy: rng.random::<f64>(),
            validation_accuracy: Some(rng.random::<f64>()),
            slope: 1.0 + rng.random::<f64>() * 4.0,
            seconds: 0.0,
        })
        .collect();
    let text = serde_json::to_string(&logs).expect("json");
    let back: Vec<EpochLog> = serde_json::from_str(&text).expect("parse");
    let bits = |l: &[EpochLog]| {
        l.iter()
            .map(|e| {
                (
                    e.train_loss.to_bits(),
                    e.train_accuracy.to_bits(),
                    e.validation_accuracy.map(f64::to_bits),
                    e.slope.to_bits(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(
        bits(&back) == bits(&logs),
        "a value changed in the round trip"
    );
    // Wall time is never written (byte-identical checkpoints).
    let timed = EpochLog {
        seconds: 12.5,
        ..logs[0].clone()
    };
    let text = serde_json::to_string(&timed).expect("json");
    assert!(!text.contains("seconds"), "{text}");
}

#[test]
fn the_same_seed_and_command_write_byte_identical_checkpoints() {
    let Some((tr, _)) = subsets(200, 10) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a.st"), tmp.path().join("b.st"));
    train(
        &model("cnn-bin"),
        &tr,
        None,
        &config(2),
        Some(&a),
        &mut Quiet,
    )
    .expect("a");
    train(
        &model("cnn-bin"),
        &tr,
        None,
        &config(2),
        Some(&b),
        &mut Quiet,
    )
    .expect("b");
    assert!(
        std::fs::read(&a).expect("a") == std::fs::read(&b).expect("b"),
        "the two checkpoints differ in bytes"
    );
}
