//! The chapter-4 figures that reuse other experiments' work: `fig4.11`
//! reads the distortion `fig4.3`'s evaluations record (no job of its own),
//! `fig4.14` the clean accuracies on both splits, `fig4.10` the attacked
//! pixels; each checks the thesis's claims on the numbers it gets.

mod common;

use common::{Store, answer, section};

use sgbn_eval::{
    AccuracyJob, AccuracyResult, AttackCost, AttackSpec, EvalJob, EvalResult, Example, ExamplesJob,
    ExamplesResult, Figure, Plan, PlanContext, Profile, Split, TrainJob, TransferJob, experiments,
};
use sgbn_eval::{GateExample, GateJob, GateResult, GateSummary, GradientJob, GradientResult};
use sgbn_metrics::{GradientStats, Histogram, RunSummary};

/// FGSM results whose ℓ1 distortion is `l1(model, run)`·ε; clean accuracy
/// `clean(model, split)`; examples whose perturbation changes `changed(model)`
/// of 10 pixels.
struct Fake {
    l1: fn(&str, usize) -> f64,
    clean: fn(&str, Split) -> f64,
    changed: fn(&str) -> usize,
}

impl Fake {
    fn eval(&self, job: &EvalJob) -> Option<EvalResult> {
        let AttackSpec::Fgsm { eps, .. } = job.attack else {
            return None;
        };
        let l1 = (self.l1)(&job.model.model, job.model.run) * eps;
        Some(EvalResult {
            accuracy: 0.5,
            total: job.test_size,
            repeated: None,
            seconds: 0.0,
            cost: Some(AttackCost {
                success_rate: 0.5,
                mean_l1: l1,
                mean_linf: eps,
                max_linf: eps,
                mean_forward_passes: 2.0,
            }),
            confidence: None,
            correct_passes: None,
        })
    }

    fn accuracy(&self, job: &AccuracyJob) -> Option<AccuracyResult> {
        Some(AccuracyResult {
            accuracy: (self.clean)(&job.model.model, job.split),
            total: 100,
            seconds: 0.0,
        })
    }

    fn gates(&self, job: &GateJob) -> Option<GateResult> {
        // Gate 1: 30 % of σ(a) below 0.1 and 70 % at 0.9 or above, 70 % of
        // the weights on; gate 2: half and half.
        let hist = |low: u64, high: u64| {
            let mut h = Histogram::new(0.0, 1.0, job.bins).expect("histogram");
            h.counts[0] = low;
            h.counts[job.bins - 1] = high;
            h
        };
        let gate = |on: f64, low, high| GateSummary {
            share_on: RunSummary::of(&[on]).expect("summary"),
            probabilities: hist(low, high),
            mean_probability: on,
        };
        Some(GateResult {
            gates: vec![gate(0.7, 30, 70), gate(0.5, 50, 50)],
            examples: job
                .examples
                .iter()
                .map(|&index| GateExample {
                    index,
                    label: 1,
                    probabilities: vec![0.0, 0.25, 0.75, 1.0, 0.5, 0.5, 0.5, 0.5],
                    masks: vec![0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0],
                    shape: [2, 1, 2, 2],
                })
                .collect(),
        })
    }

    fn gradients(&self, job: &GradientJob) -> Option<GradientResult> {
        // Components ±a with a = 0.02 for SGBN, 0.01 otherwise; one image
        // in ten with a zero gradient.
        let a = if job.model.model == "sgbn" {
            0.02f32
        } else {
            0.01
        };
        let rows: Vec<Vec<f32>> = (0..10)
            .map(|i| {
                if i == 0 {
                    vec![0.0; 4]
                } else {
                    vec![a, -a, a, -a]
                }
            })
            .collect();
        let stats = GradientStats::from_rows(&rows);
        let histogram = stats.histogram(-job.range, job.range, job.bins).ok()?;
        Some(GradientResult { stats, histogram })
    }

    fn examples(&self, job: &ExamplesJob) -> Option<ExamplesResult> {
        let k = (self.changed)(&job.model.model);
        let adversarial: Vec<f32> = (0..10).map(|i| if i < k { 0.3 } else { 0.0 }).collect();
        Some(ExamplesResult {
            shape: [1, 2, 5],
            examples: job
                .indices
                .iter()
                .map(|&index| Example {
                    index,
                    label: 4,
                    clean: vec![0.0; 10],
                    adversarial: adversarial.clone(),
                    prediction: 9,
                })
                .collect(),
        })
    }

    /// The store that answers with these.
    fn store(&self) -> Store<'_> {
        Store {
            eval: answer(|j| self.eval(j)),
            accuracy: answer(|j| self.accuracy(j)),
            gates: answer(|j| self.gates(j)),
            gradients: answer(|j| self.gradients(j)),
            examples: answer(|j| self.examples(j)),
            ..Store::default()
        }
    }
}

fn data() -> Vec<String> {
    vec!["a".repeat(64)]
}

const STORE: Fake = Fake {
    l1: |model, run| match model {
        "sgbn" => 0.6,
        "cnn" => 0.5 + 0.01 * run as f64,
        "cnn-bin" => 0.5 - 0.01 * run as f64,
        "sap" => 0.3,
        _ => 0.2,
    },
    clean: |model, split| match (model, split) {
        (_, Split::Test) => 0.9,
        ("sgbn", Split::Train) => 0.91,
        (_, Split::Train) => 0.95,
    },
    changed: |model| if model == "sgbn" { 8 } else { 5 },
};

#[test]
fn the_distortion_figure_costs_nothing_beyond_fig4_3() {
    let quick = Profile::named("quick").expect("quick");
    let data = data();
    let ctx = PlanContext {
        profile: &quick,
        data: &data,
        cifar: None,
    };
    let pick = |ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        Plan::build(&experiments::select(&ids, false).expect("ids"), &ctx).expect("plan")
    };
    let alone = pick(&["fig4.3"]);
    let both = pick(&["fig4.3", "fig4.11"]);
    assert_eq!(
        alone.of::<sgbn_eval::EvalJob>().len(),
        both.of::<sgbn_eval::EvalJob>().len()
    );
    assert_eq!(alone.trains.len(), both.trains.len());
}

#[test]
fn the_distortion_claims_are_checked_with_the_runs_spread() {
    let mut two = Profile::named("smoke").expect("smoke");
    two.runs = 2;
    let s = section("fig4.11", &two, &STORE.store());
    let md = &s.markdown;
    // ε 0.3: SGBN 18, CNN 15 ± 0.2, CNN-BIN 15 ± 0.2, SAP 9, BNN with PGD 6.
    assert!(
        md.contains("| sgbn | 0.00 ± 0.00 (2) | 6.00 ± 0.00 (2) | 18.00 ± 0.00 (2) |"),
        "{md}"
    );
    assert_eq!(md.matches("**holds**").count(), 3, "{md}");
    assert!(
        md.contains("sgbn 18.00 > cnn 15.15 > cnn-bin 14.85 > sap 9.00 > bnn-pgd 6.00"),
        "{md}"
    );
    let Figure::Line { y_max, series, .. } = &s.figures[0].1 else {
        panic!("a line plot");
    };
    assert_eq!((*y_max, series.len()), (0.3, 5));

    // One run: no spread, so the CNN / CNN-BIN comparison is not made.
    let one = Profile::named("smoke").expect("smoke");
    let md = section("fig4.11", &one, &STORE.store()).markdown;
    assert!(md.contains("needs 2 runs or more): not computed"), "{md}");
    assert!(md.contains("2 of 2 of the thesis's claims hold"), "{md}");
}

#[test]
fn the_generalization_gap_and_the_perturbation_images() {
    let smoke = Profile::named("smoke").expect("smoke");
    let md = section("fig4.14", &smoke, &STORE.store()).markdown;
    assert!(
        md.contains("| sgbn | 91.0 (1) | 90.0 (1) | 1.0 (1) |"),
        "{md}"
    );
    assert!(
        md.contains("**holds** — gaps: sgbn 1.00, sgbn-dt 5.00, cnn-bin 5.00"),
        "{md}"
    );
    // Appendix C makes no claim: the same table, no claim line.
    let md = section("figC.1", &smoke, &STORE.store()).markdown;
    assert!(
        md.contains("| sgbn-relu | 95.0 (1) | 90.0 (1) | 5.0 (1) |"),
        "{md}"
    );
    assert!(!md.contains("claim"), "{md}");

    let s = section("fig4.10", &smoke, &STORE.store());
    assert!(
        s.markdown
            .contains("**holds** — the most pixels changed: sgbn (80 %)"),
        "{}",
        s.markdown
    );
    let Figure::Images { rows, .. } = &s.figures[0].1 else {
        panic!("images");
    };
    // Five models × three images, each row clean / perturbation / perturbed.
    assert_eq!(rows.len(), 15);
    assert_eq!(rows[0].1.len(), 3);
    assert_eq!(
        (rows[0].1[1].scale, rows[0].1[2].scale),
        (sgbn_eval::PixelScale::Signed, sgbn_eval::PixelScale::Unit)
    );
}

#[test]
fn the_gate_figures_read_one_shared_measurement() {
    let smoke = Profile::named("smoke").expect("smoke");
    let md = section("fig4.9", &smoke, &STORE.store()).markdown;
    assert!(
        md.contains("| weights switched on | 70.0 (1) | ≈ 60 |"),
        "{md}"
    );
    assert!(
        md.contains("| σ(a) close to 1 (≥ 0.9) | 70.0 (1) | ≈ 60 |"),
        "{md}"
    );
    assert!(
        md.contains("| σ(a) close to 0 (< 0.1) | 30.0 (1) | ≈ 40 |"),
        "{md}"
    );
    let md = section("figB.1", &smoke, &STORE.store()).markdown;
    assert!(
        md.contains("| σ(a) close to 1 (≥ 0.9) | 50.0 (1) | ≈ 50 |"),
        "{md}"
    );

    let s = section("fig4.8", &smoke, &STORE.store());
    assert!(
        s.markdown.contains("| 2 (1) | 50 % | 0.50 |"),
        "{}",
        s.markdown
    );
    let Figure::Images { rows, .. } = &s.figures[0].1 else {
        panic!("images");
    };
    // Two digits, a row each, one 2×2 image per filter; σ drawn as 2σ − 1.
    assert_eq!((rows.len(), rows[0].1.len()), (2, 2));
    assert_eq!(rows[0].1[0].pixels, vec![-1.0, -0.5, 0.5, 1.0]);
    let s = section("fig4.7", &smoke, &STORE.store());
    let Figure::Images { rows, .. } = &s.figures[0].1 else {
        panic!("images");
    };
    assert_eq!(rows[0].1[1].pixels, vec![1.0, 0.0, 1.0, 0.0]);

    // All four share one job per run.
    let data = data();
    let ids: Vec<String> = ["fig4.7", "fig4.8", "fig4.9", "figB.1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let plan = Plan::build(
        &experiments::select(&ids, false).expect("ids"),
        &PlanContext {
            profile: &smoke,
            data: &data,
            cifar: None,
        },
    )
    .expect("plan");
    assert_eq!(plan.of::<sgbn_eval::GateJob>().len(), smoke.runs);
}

#[test]
fn a_gate_job_measures_both_gates_of_an_untrained_sgbn() {
    use sgbn_models::{ConvNet, ModelSpec};
    let dev = candle_core::Device::Cpu;
    let n = 6;
    let pixels: Vec<f32> = (0..n * 784)
        .map(|i| ((i * 37) % 101) as f32 / 100.0)
        .collect();
    let images = candle_core::Tensor::from_vec(pixels, (n, 1, 28, 28), &dev).expect("images");
    let labels =
        candle_core::Tensor::from_vec((0..n as u32).collect::<Vec<_>>(), n, &dev).expect("y");
    let test = sgbn_data::Dataset::new(images, labels, 10).expect("data");
    let spec = ModelSpec::named("sgbn").expect("spec");
    let job = TrainJob::custom(
        "sgbn",
        spec.clone(),
        sgbn_defenses::TrainConfig::default(),
        (None, 0),
        0,
        &data(),
    );
    let model = ConvNet::new(&spec, 0, &dev).expect("model");
    let r = GateJob::new(&job, n, 10, &[1, 4])
        .run(&model, 1.0, &test, &dev)
        .expect("gates");
    assert_eq!(r.gates.len(), 2);
    // Every σ(a) of every image is binned: 32·1·5·5 and 64·32·5·5 per image.
    assert_eq!(r.gates[0].probabilities.total(), (n * 800) as u64);
    assert_eq!(r.gates[1].probabilities.total(), (n * 51_200) as u64);
    assert_eq!(r.gates[0].share_on.n, n);
    assert!(
        r.gates
            .iter()
            .all(|g| (0.0..=1.0).contains(&g.share_on.mean))
    );
    let ex = &r.examples[1];
    assert_eq!((ex.index, ex.label, ex.shape), (4, 4, [32, 1, 5, 5]));
    assert_eq!(ex.masks.len(), 800);
    assert!(ex.masks.iter().all(|m| *m == 0.0 || *m == 1.0));
    assert!(ex.probabilities.iter().all(|p| (0.0..=1.0).contains(p)));

    let cnn = ModelSpec::named("cnn").expect("cnn");
    let err = GateJob::new(&job, n, 10, &[])
        .run(&ConvNet::new(&cnn, 0, &dev).expect("cnn"), 1.0, &test, &dev)
        .expect_err("no gates");
    assert!(err.to_string().contains("has no gates"), "{err}");
}

#[test]
fn the_gradient_histograms_compare_spreads() {
    let smoke = Profile::named("smoke").expect("smoke");
    let s = section("fig4.16", &smoke, &STORE.store());
    let md = &s.markdown;
    // SGBN: components ±0.02 on 9 of 10 images: std √(0.9·0.02²) ≈ 0.0190.
    assert!(
        md.contains("| sgbn | 0.0000 (1) | 0.0190 (1) | 10.0 (1) % | 0.0 (1) % | – |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| sgbn-dt | 0.0000 (1) | 0.0095 (1) | 10.0 (1) % | 0.0 (1) % | 0.000, 0.015 |"
        ),
        "{md}"
    );
    assert!(
        md.contains("**holds** — std: sgbn 0.0190, sgbn-dt 0.0095, cnn-bin 0.0095"),
        "{md}"
    );
    let Figure::Bars { panels, .. } = &s.figures[0].1 else {
        panic!("bars");
    };
    let shares = panels[0].shares.as_ref().expect("computed");
    assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn a_transfer_set_judges_shuffled_targets_under_their_own_name() {
    use sgbn_models::{ConvNet, ModelSpec};
    let dev = candle_core::Device::Cpu;
    let n = 6;
    let pixels: Vec<f32> = (0..n * 784)
        .map(|i| ((i * 13) % 97) as f32 / 96.0)
        .collect();
    let images = candle_core::Tensor::from_vec(pixels, (n, 1, 28, 28), &dev).expect("images");
    let labels =
        candle_core::Tensor::from_vec((0..n as u32).collect::<Vec<_>>(), n, &dev).expect("y");
    let test = sgbn_data::Dataset::new(images, labels, 10).expect("data");
    let job = |name: &str| {
        TrainJob::custom(
            name,
            ModelSpec::named(name).expect("spec"),
            sgbn_defenses::TrainConfig::default(),
            (None, 0),
            0,
            &data(),
        )
    };
    let x = TransferJob {
        version: sgbn_eval::RESULTS_VERSION,
        source: job("cnn"),
        targets: vec![job("cnn-bin")],
        eps: 0.3,
        test_size: n,
        shuffled_targets: vec![job("sgbn")],
    };
    let mut loads = Vec::new();
    let mut load = |j: &TrainJob| {
        loads.push(j.model.clone());
        Ok((ConvNet::new(&j.spec, 0, &dev)?, 1.0))
    };
    let r = x.run(&mut load, &test, &dev).expect("transfer");
    let names: Vec<&str> = r.accuracy.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["cnn-bin", "sgbn-shuffled"]);
    assert_eq!(loads, ["cnn", "cnn-bin", "sgbn"]);
    assert!(r.accuracy.iter().all(|(_, a)| (0.0..=1.0).contains(a)));
}
