//! Training recipes beyond plain supervised learning: PGD adversarial
//! training (eq. 2.29), REINFORCE units (eq. 2.14–2.16), gate probes
//! (§4.6.2), dense dropout (chapter 3) and the toy networks (§4.6.5).

mod common;

use candle_core::{DType, Device, Tensor};
use common::{StopAt, subsets};
use rand::SeedableRng;
use sgbn_defenses::{EpochLog, Quiet, TrainConfig, TrainError, pgd_training_examples, train};
use sgbn_estimators::SeededRng;
use sgbn_models::{
    AdversarialTraining, Checkpoint, Classifier, ConvNet, ForwardContext, ModelSpec, accuracy,
    save_checkpoint,
};

fn named(name: &str, seed: u64) -> ConvNet {
    ConvNet::new(&ModelSpec::named(name).expect("spec"), seed, &Device::Cpu).expect("model")
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .and_then(|t| t.to_dtype(DType::F32))
        .and_then(|t| t.to_vec1())
        .expect("values")
}

fn trainable(m: &ConvNet) -> Vec<(String, Vec<f32>)> {
    m.trainable()
        .into_iter()
        .map(|(n, v)| (n, values(v.as_tensor())))
        .collect()
}

fn state(m: &ConvNet) -> Vec<(String, Vec<f32>)> {
    m.state()
        .into_iter()
        .map(|(n, v)| (n, values(v.as_tensor())))
        .collect()
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        early_stopping: None,
        seed: 3,
        ..TrainConfig::default()
    }
}

fn loss(m: &ConvNet, x: &Tensor, y: &Tensor) -> f32 {
    let logits = m
        .forward(
            x,
            ForwardContext::eval(1.0),
            &mut SeededRng::seed_from_u64(0),
        )
        .expect("forward");
    candle_nn::loss::cross_entropy(&logits, y)
        .and_then(|l| l.to_scalar::<f32>())
        .expect("loss")
}

#[test]
fn pgd_training_examples_stay_in_the_ball_and_raise_the_loss() {
    let Some((tr, _)) = subsets(400, 1) else {
        return;
    };
    let m = named("cnn", 1);
    train(&m, &tr, None, &config(1), None, &mut Quiet).expect("train");
    let (x, y) = tr.batch(&(0..50).collect::<Vec<_>>()).expect("batch");
    for eps in [0.0, 0.1, 0.3] {
        let adv = AdversarialTraining {
            eps,
            step: 0.02,
            steps: 8,
            tau: 0.5,
            last_epochs: 1,
        };
        let mut rng = SeededRng::seed_from_u64(4);
        let xa = pgd_training_examples(&m, &x, &y, &adv, 1.0, &mut rng).expect("pgd");
        let dist = values(&(&xa - &x).expect("diff").abs().expect("abs"));
        assert!(dist.iter().all(|d| *d <= eps as f32 + 1e-6), "ε {eps}");
        assert!(values(&xa).iter().all(|v| (0.0..=1.0).contains(v)));
        if eps == 0.0 {
            assert_eq!(values(&xa), values(&x));
        } else {
            assert!(
                loss(&m, &xa, &y) > loss(&m, &x, &y) + 0.1,
                "ε {eps}: PGD must raise the loss"
            );
        }
    }
}

/// The BNN with PGD, with its PGD made small enough for a test.
fn small_pgd(tau: f64, last_epochs: usize) -> ConvNet {
    let mut spec = ModelSpec::named("bnn-pgd").expect("spec");
    spec.adversarial_training = Some(AdversarialTraining {
        eps: 0.3,
        step: 0.05,
        steps: 3,
        tau,
        last_epochs,
    });
    ConvNet::new(&spec, 2, &Device::Cpu).expect("model")
}

#[test]
fn adversarial_training_mixes_the_losses_in_the_last_epochs_only() {
    let Some((tr, _)) = subsets(200, 1) else {
        return;
    };
    let plain = {
        let mut spec = ModelSpec::named("bnn-pgd").expect("spec");
        spec.adversarial_training = None;
        ConvNet::new(&spec, 2, &Device::Cpu).expect("model")
    };
    train(&plain, &tr, None, &config(1), None, &mut Quiet).expect("plain");
    // τ = 1: the adversarial term has weight 0, so the trainable weights
    // follow the clean run exactly (the BNN is deterministic; only batch-norm
    // running statistics see the adversarial batches).
    let tau_one = small_pgd(1.0, 1);
    train(&tau_one, &tr, None, &config(1), None, &mut Quiet).expect("τ 1");
    assert_eq!(trainable(&tau_one), trainable(&plain));
    assert_ne!(
        state(&tau_one),
        state(&plain),
        "PGD forwards ran in training mode"
    );
    // PGD only in the last 0 epochs: never, the same run in every respect.
    let never = small_pgd(0.5, 0);
    train(&never, &tr, None, &config(1), None, &mut Quiet).expect("never");
    assert_eq!(state(&never), state(&plain));
    // τ = 0.5 in the last epoch: another model.
    let mixed = small_pgd(0.5, 1);
    train(&mixed, &tr, None, &config(1), None, &mut Quiet).expect("mixed");
    assert_ne!(trainable(&mixed), trainable(&plain));
}

/// A model whose hidden layer the optimizer does not see.
struct Frozen(ConvNet);

impl Classifier for Frozen {
    fn spec(&self) -> &ModelSpec {
        self.0.spec()
    }
    fn forward(
        &self,
        x: &Tensor,
        ctx: ForwardContext,
        rng: &mut SeededRng,
    ) -> sgbn_models::Result<Tensor> {
        self.0.forward(x, ctx, rng)
    }
    fn as_gated(&self) -> Option<&dyn sgbn_models::Gated> {
        self.0.as_gated()
    }
    fn take_reinforce_sample(&self) -> Option<sgbn_estimators::ReinforceSample> {
        self.0.take_reinforce_sample()
    }
    fn trainable(&self) -> Vec<(String, candle_core::Var)> {
        let mut t = self.0.trainable();
        t.retain(|(n, _)| !n.starts_with("hidden."));
        t
    }
    fn state(&self) -> Vec<(String, candle_core::Var)> {
        self.0.state()
    }
}

#[test]
fn reinforce_networks_learn_and_resume_exactly() {
    let Some((tr, te)) = subsets(2000, 500) else {
        return;
    };
    let mut cfg = config(2);
    cfg.adam.lr = 1e-2; // the thesis's MLP rate (§3.2.1)
    let m = named("mlp-reinforce", 4);
    let before = trainable(&m);
    let report = train(&m, &tr, None, &cfg, None, &mut Quiet).expect("train");
    let after = trainable(&m);
    let hidden = |w: &[(String, Vec<f32>)]| {
        w.iter()
            .find(|(n, _)| n == "hidden.weight")
            .map(|(_, v)| v.clone())
            .expect("hidden")
    };
    // The hidden layer sits below the REINFORCE units: only the surrogate
    // of eq. 2.14 can move it.
    assert_ne!(hidden(&before), hidden(&after));
    let acc = accuracy(
        &m,
        te.images(),
        te.labels(),
        500,
        ForwardContext::eval(report.final_slope),
        &mut SeededRng::seed_from_u64(1),
    )
    .expect("accuracy");
    // The control: the same run with the hidden layer frozen, so that only
    // the output layer learns, on random binary features. REINFORCE must
    // beat it by more than 4 standard errors of a 500-image accuracy
    // (√(0.25/500) ≈ 2.2 points at most).
    let control = Frozen(named("mlp-reinforce", 4));
    let c_report = train(&control, &tr, None, &cfg, None, &mut Quiet).expect("control");
    assert_eq!(hidden(&trainable(&control.0)), hidden(&before));
    let c_acc = accuracy(
        &control,
        te.images(),
        te.labels(),
        500,
        ForwardContext::eval(c_report.final_slope),
        &mut SeededRng::seed_from_u64(1),
    )
    .expect("accuracy");
    let se = (0.25f64 / 500.0).sqrt();
    assert!(
        acc.fraction() > c_acc.fraction() + 4.0 * se,
        "REINFORCE {} vs frozen hidden layer {}",
        acc.fraction(),
        c_acc.fraction()
    );

    // Interrupted in epoch 1 and resumed: the baseline's moving averages
    // are restored from the checkpoint, so the result is the same.
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("r.st");
    let first = named("mlp-reinforce", 4);
    let err = train(&first, &tr, None, &cfg, Some(&path), &mut StopAt(1, 5)).expect_err("stop");
    assert!(matches!(err, TrainError::Interrupted { .. }));
    let ck = Checkpoint::read(&path, &Device::Cpu).expect("checkpoint");
    assert!(ck.tensor("reinforce.baseline.numerator").is_some());
    let again = named("mlp-reinforce", 4);
    let resumed = train(&again, &tr, None, &cfg, Some(&path), &mut Quiet).expect("resume");
    assert_eq!(state(&again), state(&m));
    let losses = |e: &[EpochLog]| e.iter().map(|l| l.train_loss).collect::<Vec<_>>();
    assert_eq!(losses(&resumed.epochs), losses(&report.epochs));
}

#[test]
fn a_gate_probe_trains_its_head_and_nothing_else() {
    let Some((tr, _)) = subsets(300, 1) else {
        return;
    };
    // A small SGBN stands in for a trained one: same code path, faster.
    let mut base_spec = ModelSpec::named("sgbn").expect("spec");
    for conv in &mut base_spec.convs {
        if let Some(g) = &mut conv.gate {
            g.hidden = [16, 16];
        }
    }
    let base = ConvNet::new(&base_spec, 5, &Device::Cpu).expect("base");
    train(&base, &tr, None, &config(1), None, &mut Quiet).expect("base");
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("base.st");
    save_checkpoint(&base, &path, &Default::default()).expect("save");
    let ck = Checkpoint::read(&path, &Device::Cpu).expect("read");

    for gate in [0, 1] {
        let mut spec = base_spec.clone();
        spec.name = "probe".into();
        spec.probe = Some(sgbn_models::GateProbe { gate });
        let probe = ConvNet::new(&spec, 6, &Device::Cpu).expect("probe");
        probe.load_probe_base(&ck).expect("load base");
        let names: Vec<String> = probe.trainable().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["probe.bias", "probe.weight"]);
        let frozen = |m: &ConvNet| {
            state(m)
                .into_iter()
                .filter(|(n, _)| !n.starts_with("probe."))
                .collect::<Vec<_>>()
        };
        assert_eq!(frozen(&probe), state(&base));
        let head_before = trainable(&probe);
        let report = train(&probe, &tr, None, &config(3), None, &mut Quiet).expect("probe");
        // Frozen: weights and batch-norm running statistics alike.
        assert_eq!(frozen(&probe), state(&base), "gate {gate}");
        assert_ne!(trainable(&probe), head_before, "gate {gate}");
        let first = report.epochs[0].train_loss;
        let last = report.epochs[2].train_loss;
        assert!(last < first, "gate {gate}: loss {first} → {last}");
    }

    // A probe on another base is refused.
    let mut spec = ModelSpec::named("1st-gm").expect("spec");
    spec.convs[0].filters = 16;
    let other = ConvNet::new(&spec, 6, &Device::Cpu).expect("probe");
    let e = other.load_probe_base(&ck).expect_err("mismatch");
    assert!(e.to_string().contains("base"), "{e}");
}

#[test]
fn dense_dropout_acts_in_training_only() {
    let mut spec = ModelSpec::named("ch3-cnn").expect("spec");
    spec.dense_dropout = 0.9;
    let m = ConvNet::new(&spec, 7, &Device::Cpu).expect("model");
    let Some((tr, _)) = subsets(20, 1) else {
        return;
    };
    let (x, _) = tr.batch(&(0..20).collect::<Vec<_>>()).expect("batch");
    let run = |ctx: ForwardContext, seed: u64| {
        values(
            &m.forward(&x, ctx, &mut SeededRng::seed_from_u64(seed))
                .expect("forward"),
        )
    };
    assert_eq!(
        run(ForwardContext::eval(1.0), 1),
        run(ForwardContext::eval(1.0), 2)
    );
    assert_ne!(
        run(ForwardContext::train(1.0), 1),
        run(ForwardContext::train(1.0), 2)
    );
    spec.dense_dropout = 1.0;
    assert!(ConvNet::new(&spec, 7, &Device::Cpu).is_err());
}

#[test]
fn toy_networks_learn_the_absolute_value_and_repeat_with_the_seed() {
    use sgbn_data::ToyRegression;
    use sgbn_defenses::train_toy;
    use sgbn_models::{TOY_NAMES, ToyNet, ToySpec};

    let data = ToyRegression::generate(0, &Device::Cpu).expect("data");
    let y = values(&data.train_y);
    let mean = y.iter().sum::<f32>() / y.len() as f32;
    let variance = y.iter().map(|v| (v - mean).powi(2)).sum::<f32>() as f64 / y.len() as f64;
    for name in TOY_NAMES {
        let spec = ToySpec::named(name).expect("spec");
        let model = ToyNet::new(spec, 1, &Device::Cpu).expect("model");
        let report = train_toy(&model, &data, 5000, 1e-3, 2).expect("train");
        let first = report.train_mse[0];
        let last = *report.train_mse.last().expect("curve");
        assert!(last < first, "{name}: mse {first} → {last}");
        // A gated network beats the best constant prediction (the targets'
        // variance); the plain MLP need not: with two tanh units it finds
        // little more than the mean here, as the thesis reports for WOGM
        // (§4.6.5).
        if spec.gate.is_some() {
            assert!(last < variance, "{name}: mse {last}, variance {variance}");
            assert!(
                report.test_mse < variance,
                "{name}: test {}",
                report.test_mse
            );
        }
        if name == "toy-gm-st" {
            // Same seeds, same run, stochastic gate included.
            let again = ToyNet::new(spec, 1, &Device::Cpu).expect("model");
            let repeat = train_toy(&again, &data, 5000, 1e-3, 2).expect("train");
            assert_eq!(repeat, report, "{name}");
        }
        match (spec.gate, model.last_masks()) {
            (None, None) => {}
            (Some(g), Some(m)) => {
                let m = values(&m);
                if g.stochastic {
                    assert!(m.iter().all(|v| *v == 0.0 || *v == 1.0), "{name}");
                } else {
                    assert!(m.iter().all(|v| *v > 0.0 && *v < 1.0), "{name}");
                }
            }
            _ => panic!("{name}: masks only for gated networks"),
        }
    }
    assert!(ToySpec::named("toy-resnet").is_err());
}
