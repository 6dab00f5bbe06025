//! The gradient-masking audit: a well-behaved model passes every check, a
//! model whose gradients are zero is flagged with the evidence, a gated
//! model of sgbn-models gets its BPDA and fixed-mask lines, a resumed audit
//! gives the same report, and bad inputs are refused before any work.

use std::collections::HashMap;

use candle_core::{D, DType, Device, Tensor};
use sgbn_attacks::{Victim, victim_fn};
use sgbn_data::Dataset;
use sgbn_estimators::{SeededRng, seeded_rng, uniform_like};
use sgbn_eval::audit::{AuditRole, CheckStatus};
use sgbn_eval::{
    AuditBudget, AuditCache, AuditData, AuditHooks, AuditIdentity, AuditReport, AuditTarget,
    Result, audit, audit_with,
};

/// 1×4×4 images, 2 classes: class 1 is brighter on the left half.
fn toy(n: usize, seed: u64) -> Dataset {
    let dev = Device::Cpu;
    let mut rng = seeded_rng(seed);
    let noise = uniform_like(
        &Tensor::zeros((n, 1, 4, 4), DType::F32, &dev).expect("zeros"),
        &mut rng,
    )
    .expect("noise");
    let y: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let left = Tensor::new(&[1f32, 1., -1., -1.], &dev)
        .expect("left")
        .reshape((1, 1, 1, 4))
        .expect("shape");
    let ys = Tensor::new(y.as_slice(), &dev).expect("labels");
    let sign = ((ys.to_dtype(DType::F32).expect("f32") * 2.0).expect("2y") - 1.0)
        .expect("±1")
        .reshape((n, 1, 1, 1))
        .expect("shape");
    let x = ((noise * 0.6).expect("scale") + 0.2)
        .expect("shift")
        .broadcast_add(
            &sign
                .broadcast_mul(&left)
                .expect("shift")
                .affine(0.15, 0.0)
                .expect("0.15"),
        )
        .expect("add")
        .clamp(0f32, 1f32)
        .expect("clamp");
    Dataset::new(x, ys, 2).expect("dataset")
}

/// Class-1 score `w · x − 0` with w reading the left half positively.
fn linear_scores(x: &Tensor) -> candle_core::Result<Tensor> {
    let w = Tensor::new(
        &[
            1f32, 1., -1., -1., 1., 1., -1., -1., 1., 1., -1., -1., 1., 1., -1., -1.,
        ],
        x.device(),
    )?
    .reshape((16, 1))?;
    let s = x.flatten_from(1)?.matmul(&w)?;
    Tensor::cat(&[s.neg()?, s], D::Minus1)
}

fn small_budget() -> AuditBudget {
    AuditBudget {
        eps: 0.3,
        images: 60,
        passes: 4,
        eot: 2,
        pgd_steps: 10,
        apgd_steps: 10,
        square_queries: 200,
        sweep: vec![0.1, 1.0],
        surrogate_epochs: 0,
        batch_size: 30,
        ..AuditBudget::default()
    }
}

fn status(report: &AuditReport, id: &str) -> CheckStatus {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .status
}

#[test]
fn a_linear_model_passes_every_check_and_pgd_is_the_worst_case() -> Result<()> {
    let data = toy(60, 1);
    let model = victim_fn(2, |x: &Tensor, _: &mut SeededRng| linear_scores(x));
    let report = audit(
        AuditTarget::Victim(&model),
        AuditData {
            test: &data,
            train: None,
        },
        &small_budget(),
    )?;
    assert!(!report.masking, "{}", report.verdict);
    assert!(
        report.verdict.starts_with("no sign of gradient masking"),
        "{}",
        report.verdict
    );
    assert!(!report.capabilities.stochastic);
    assert_eq!(report.passes, 1);
    for id in [
        "iterative-beats-single-step",
        "gradient-free-not-stronger",
        "unbounded-reaches-zero",
    ] {
        assert_eq!(status(&report, id), CheckStatus::Pass, "{id}");
    }
    // Neither random, gated nor given training data: those lines are named as not run.
    let not_run: Vec<AuditRole> = report.not_applicable.iter().map(|n| n.role).collect();
    for role in [
        AuditRole::PgdEot,
        AuditRole::Bpda,
        AuditRole::FixedMasks,
        AuditRole::Transfer,
    ] {
        assert!(not_run.contains(&role), "{role:?}");
    }
    // ε = 1 breaks a linear model completely; the worst case is at most PGD's.
    let at_one = report
        .lines
        .iter()
        .find(|l| l.role == AuditRole::Pgd && l.spec.eps() == 1.0);
    assert_eq!(at_one.expect("pgd at 1").result.headline(), 0.0);
    let robust = report.robust.expect("worst case").robust;
    assert!(robust <= report.line(AuditRole::Pgd).expect("pgd").result.headline());
    Ok(())
}

/// The linear model on inputs quantized to 4 levels *outside* the graph:
/// the input gradient is exactly zero (gradient shattering).
fn zero_gradient_model() -> impl Victim {
    victim_fn(2, |x: &Tensor, _: &mut SeededRng| {
        let q = (x.detach().affine(3.0, 0.0)?.round()? / 3.0)?;
        let s = linear_scores(&q)?;
        let zero = (x.flatten_from(1)?.sum_keepdim(1)? * 0.0)?.broadcast_as(s.shape())?;
        s + zero
    })
}

#[test]
fn a_model_with_zero_gradients_is_flagged_with_the_evidence() -> Result<()> {
    let data = toy(60, 2);
    let model = zero_gradient_model();
    let report = audit(
        AuditTarget::Victim(&model),
        AuditData {
            test: &data,
            train: None,
        },
        &small_budget(),
    )?;
    assert!(report.masking, "{}", report.verdict);
    assert!(
        report
            .verdict
            .starts_with("gradient masking: the defence's FGSM number overstates"),
        "{}",
        report.verdict
    );
    // The gradient-free attack does what the gradients cannot, and ε = 1 does not reach 0.
    assert_eq!(
        status(&report, "gradient-free-not-stronger"),
        CheckStatus::Fail
    );
    assert_eq!(status(&report, "unbounded-reaches-zero"), CheckStatus::Fail);
    assert_eq!(report.flags.zero_gradient_examples, Some(1.0));
    let fgsm = report
        .line(AuditRole::Fgsm)
        .expect("fgsm")
        .result
        .headline();
    let square = report
        .line(AuditRole::Square)
        .expect("square")
        .result
        .headline();
    assert!(square < fgsm - 0.2, "Square {square} vs FGSM {fgsm}");
    Ok(())
}

#[derive(Default)]
struct MemoryCache {
    entries: HashMap<String, String>,
    puts: usize,
}

impl AuditCache for MemoryCache {
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.entries.get(key).cloned())
    }
    fn put(&mut self, key: &str, json: &str) -> Result<()> {
        self.puts += 1;
        self.entries.insert(key.into(), json.into());
        Ok(())
    }
}

/// A random model: the linear scores plus noise drawn from the caller's generator.
fn noisy_model() -> impl Victim {
    victim_fn(2, |x: &Tensor, rng: &mut SeededRng| {
        let s = linear_scores(x)?;
        let noise = uniform_like(&s, rng).map_err(candle_core::Error::wrap)?;
        s + ((noise - 0.5)? * 6.0)?
    })
}

#[test]
fn a_resumed_audit_gives_the_same_report_and_randomness_is_detected() -> Result<()> {
    let data = toy(60, 3);
    let model = noisy_model();
    let budget = small_budget();
    let id = AuditIdentity {
        model: "noisy".into(),
        data: "toy".into(),
    };
    let mut cache = MemoryCache::default();
    let first = audit_with(
        AuditTarget::Victim(&model),
        AuditData {
            test: &data,
            train: None,
        },
        &budget,
        AuditHooks {
            cache: Some((&mut cache, id.clone())),
            ..AuditHooks::default()
        },
    )?;
    let stored = cache.puts;
    assert_eq!(
        stored,
        first.lines.len() + 1,
        "every line and the clean check"
    );
    let mut seen = Vec::new();
    let mut progress = |p: &sgbn_eval::audit::AuditProgress| seen.push(p.cached);
    let second = audit_with(
        AuditTarget::Victim(&model),
        AuditData {
            test: &data,
            train: None,
        },
        &budget,
        AuditHooks {
            cache: Some((&mut cache, id)),
            progress: Some(&mut progress),
            ..AuditHooks::default()
        },
    )?;
    assert_eq!(cache.puts, stored, "nothing recomputed");
    assert!(seen.iter().all(|c| *c));
    assert_eq!(first.lines, second.lines);
    assert_eq!(first.checks, second.checks);
    // And without a cache, the same numbers: each line has its own generator.
    let fresh = audit(
        AuditTarget::Victim(&model),
        AuditData {
            test: &data,
            train: None,
        },
        &budget,
    )?;
    let headline = |r: &AuditReport| {
        r.lines
            .iter()
            .map(|l| l.result.headline())
            .collect::<Vec<_>>()
    };
    assert_eq!(headline(&first), headline(&fresh));
    // The noise is seen in the clean passes: EOT lines and repeated passes follow.
    assert!(first.capabilities.stochastic);
    assert_eq!(first.passes, budget.passes);
    assert!(first.line(AuditRole::PgdEot).is_some());
    Ok(())
}

#[test]
fn bad_inputs_are_refused_before_any_attack() {
    let data = toy(20, 4);
    let model = victim_fn(2, |x: &Tensor, _: &mut SeededRng| linear_scores(x));
    let ten = victim_fn(10, |x: &Tensor, _: &mut SeededRng| linear_scores(x));
    let wide = victim_fn(2, |x: &Tensor, _: &mut SeededRng| {
        Tensor::cat(&[linear_scores(x)?, linear_scores(x)?], 1)
    });
    let run = |v: &dyn Victim, budget: AuditBudget| {
        audit(
            AuditTarget::Victim(v),
            AuditData {
                test: &data,
                train: None,
            },
            &budget,
        )
        .expect_err("refused")
        .to_string()
    };
    let few = AuditBudget {
        images: 60,
        ..small_budget()
    };
    assert!(run(&model, few).contains("60 images asked for, the test set has 20"));
    let ok = AuditBudget {
        images: 20,
        ..small_budget()
    };
    assert!(run(&ten, ok.clone()).contains("the model has 10 classes, the data 2"));
    assert!(run(&wide, ok.clone()).contains("logits of shape [1, 4], not [1, 2]"));
    let bad = AuditBudget { eps: 0.0, ..ok };
    assert!(run(&model, bad).contains("ε 0 must lie in (0, 1]"));
}

#[test]
fn a_gated_model_gets_bpda_and_fixed_mask_lines_and_a_surrogate() -> Result<()> {
    // The thesis's SGBN at 1×4×4 with 2 classes and few filters.
    let mut spec = sgbn_models::ModelSpec::named("sgbn")?;
    spec.input = [1, 4, 4];
    spec.classes = 2;
    spec.hidden = 8;
    for c in &mut spec.convs {
        c.filters = 2;
        c.kernel = 2;
        c.padding = 0;
        if let Some(g) = &mut c.gate {
            g.hidden = [8, 8];
        }
    }
    let model = sgbn_models::ConvNet::new(&spec, 0, &Device::Cpu)?;
    let (test, train) = (toy(30, 5), toy(60, 6));
    let budget = AuditBudget {
        images: 30,
        surrogate_epochs: 1,
        ..small_budget()
    };
    let report = audit(
        AuditTarget::Model {
            model: &model,
            slope: 1.0,
        },
        AuditData {
            test: &test,
            train: Some(&train),
        },
        &budget,
    );
    let report = report?;
    assert!(report.capabilities.stochastic);
    let bpda = report.capabilities.bpda.expect("a model of sgbn-models");
    assert!(bpda.dense_unit && bpda.gate.sampling && bpda.gate.activation);
    for role in [AuditRole::Bpda, AuditRole::FixedMasks, AuditRole::PgdEot] {
        assert!(report.line(role).is_some(), "{role:?}");
    }
    assert!(report.saturation.is_some());
    // The surrogate (the thesis's CNN, padded for 4×4 images) was trained
    // on the 60 training images and the transfer line ran.
    let surrogate = report.surrogate.as_ref().expect("surrogate");
    assert_eq!(surrogate.train_images, 60);
    assert!(report.line(AuditRole::Transfer).is_some());
    let not_run: Vec<AuditRole> = report.not_applicable.iter().map(|n| n.role).collect();
    assert_eq!(
        not_run,
        [AuditRole::ApgdDlr],
        "2 classes: no DLR; everything else runs"
    );
    let md = report.markdown(&sgbn_eval::audit::MarkdownOptions {
        title: "tiny SGBN".into(),
        ..Default::default()
    });
    for needle in [
        "# Gradient-masking audit: tiny SGBN",
        "**Verdict: ",
        "`bpda-not-stronger`",
        "transfer(pgd",
    ] {
        assert!(md.contains(needle), "{needle} missing from\n{md}");
    }
    Ok(())
}
