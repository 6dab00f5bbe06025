//! Planning: jobs deduplicated across experiments, keys that change with
//! everything that changes results, the default set, profile sizes.

use std::collections::HashSet;

use sgbn_eval::{Plan, PlanContext, Profile, TrainJob, experiments, key_hash};

fn data() -> Vec<String> {
    vec!["a".repeat(64), "b".repeat(64)]
}

fn plan(ids: &[&str], profile: &Profile) -> Plan {
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let exps = experiments::select(&ids, false).expect("ids");
    let data = data();
    Plan::build(
        &exps,
        &PlanContext {
            profile,
            data: &data,
            cifar: None,
        },
    )
    .expect("plan")
}

#[test]
fn a_model_is_trained_once_for_every_experiment_that_uses_it() {
    let profile = Profile::named("smoke").expect("smoke");
    let plan = plan(&["fig4.3", "table4.11", "fig4.13"], &profile);
    // fig4.3: cnn, cnn-bin, sap, bnn-pgd, bnn, sgbn; table4.11 adds sgbn-dt,
    // random-mask, dropconnect; fig4.13 adds nothing new. One run each.
    let mut models: Vec<&str> = plan.trains.iter().map(|t| t.model.as_str()).collect();
    models.sort();
    assert_eq!(
        models,
        [
            "bnn",
            "bnn-pgd",
            "cnn",
            "cnn-bin",
            "dropconnect",
            "random-mask",
            "sap",
            "sgbn",
            "sgbn-dt"
        ]
    );
    // FGSM at ε 0, 0.1, 0.3 (smoke grid) and 0.2 (table) on the shared
    // models: every (model, ε) once.
    let mut keys = HashSet::new();
    for e in &plan.of::<sgbn_eval::EvalJob>() {
        assert!(
            keys.insert(key_hash(e).expect("hash")),
            "duplicate evaluation {e:?}"
        );
    }
    let sgbn_evals = plan
        .of::<sgbn_eval::EvalJob>()
        .iter()
        .filter(|e| e.model.model == "sgbn")
        .count();
    assert_eq!(sgbn_evals, 4);
}

#[test]
fn the_adaptive_experiment_plans_three_attacks_per_eps_and_a_clean_check() {
    let profile = Profile::named("smoke").expect("smoke");
    let plan = plan(&["adaptive"], &profile);
    let models = plan.trains.len();
    assert_eq!(models, 6);
    assert_eq!(plan.of::<sgbn_eval::CleanJob>().len(), models);
    assert_eq!(
        plan.of::<sgbn_eval::EvalJob>().len(),
        models * 3 * profile.adaptive_eps.len(),
        "FGSM, PGD and Square at each ε"
    );
    // EOT only on the stochastic models.
    for e in &plan.of::<sgbn_eval::EvalJob>() {
        if let sgbn_eval::AttackSpec::Pgd { eot, .. } = e.attack {
            let want = if e.model.spec.is_stochastic() {
                profile.eot
            } else {
                1
            };
            assert_eq!(eot, want, "{}", e.model.model);
        }
    }
}

#[test]
fn keys_change_with_anything_that_changes_results() {
    let profile = Profile::named("smoke").expect("smoke");
    let a = TrainJob::new("cnn", 0, &profile, &data()).expect("job");
    assert_eq!(
        key_hash(&a).expect("a"),
        key_hash(&a.clone()).expect("a again")
    );
    let other_seed = TrainJob::new("cnn", 1, &profile, &data()).expect("job");
    assert_ne!(key_hash(&a).expect("a"), key_hash(&other_seed).expect("b"));
    let other_data = TrainJob::new("cnn", 0, &profile, &["c".repeat(64)]).expect("job");
    assert_ne!(key_hash(&a).expect("a"), key_hash(&other_data).expect("c"));
    let quick = Profile::named("quick").expect("quick");
    let other_size = TrainJob::new("cnn", 0, &quick, &data()).expect("job");
    assert_ne!(key_hash(&a).expect("a"), key_hash(&other_size).expect("d"));
}

#[test]
fn the_default_set_leaves_out_table_4_11_more_and_full_runs_everything() {
    let ids = |all| {
        experiments::select(&[], all)
            .expect("select")
            .iter()
            .map(|e| e.id())
            .collect::<Vec<_>>()
    };
    assert!(ids(false).contains(&"fig4.3"));
    assert!(!ids(false).contains(&"table4.11-more"));
    assert!(ids(true).contains(&"table4.11-more"));
    assert_eq!(ids(true).len(), experiments::all().len());
    // --only reaches an experiment outside the default set.
    let only = experiments::select(&["table4.11-more".into()], false).expect("only");
    assert_eq!(only.len(), 1);
}

#[test]
fn adversarial_training_takes_the_profile_sizes() {
    let data = data();
    for (name, steps, epochs) in [("smoke", 2, 1), ("quick", 10, 1), ("full", 40, 5)] {
        let profile = Profile::named(name).expect("profile");
        let job = TrainJob::new("bnn-pgd", 0, &profile, &data).expect("job");
        let adv = job.spec.adversarial_training.expect("PGD");
        assert_eq!((adv.steps, adv.last_epochs), (steps, epochs), "{name}");
        assert_eq!((adv.eps, adv.step, adv.tau), (0.3, 0.01, 0.5), "{name}");
        let plain = TrainJob::new("bnn", 0, &profile, &data).expect("job");
        assert!(plain.spec.adversarial_training.is_none());
        // PGD makes training dearer in the progress estimate.
        assert!(job.cost(1000) > plain.cost(1000) * 2.0, "{name}");
    }
}

#[test]
fn unknown_profiles_and_experiments_are_errors_naming_them() {
    let e = Profile::named("huge").expect_err("unknown profile");
    assert!(e.to_string().contains("huge"));
    let e = experiments::select(&["fig9.9".into()], false).expect_err("unknown id");
    assert!(e.to_string().contains("fig9.9") && e.to_string().contains("fig4.3"));
}

#[test]
fn every_id_is_unique_and_found_in_one_step() {
    let all = experiments::all();
    let ids: HashSet<&str> = all.iter().map(|e| e.id()).collect();
    assert_eq!(ids.len(), all.len());
    for id in ids {
        assert_eq!(experiments::find(id).expect("find").id(), id);
    }
}

#[test]
fn the_protocol_study_plans_each_variant_where_it_applies() {
    let profile = Profile::named("smoke").expect("smoke");
    let plan = plan(&["protocol"], &profile);
    assert_eq!(plan.trains.len(), 8, "4 models × 2 configurations");
    assert_eq!(plan.of::<sgbn_eval::MaskingJob>().len(), 8);
    assert_eq!(
        plan.of::<sgbn_eval::TransferJob>().len(),
        8,
        "each from its partner"
    );
    let fgsm_of = |model: &str| {
        plan.of::<sgbn_eval::EvalJob>()
            .iter()
            .filter(|e| e.model.model == model)
            .filter(|e| matches!(e.attack, sgbn_eval::AttackSpec::Fgsm { eps, .. } if eps > 0.0))
            .count()
    };
    // Per ε: CNN thesis + true labels; CNN-BIN adds BPDA of the dense unit;
    // SGBN (ST gates) adds gate activation, all, fixed masks (BPDA of the
    // hard STE's sampling would repeat true labels); SGBN (DT) adds the
    // gates' σ.
    for (model, per_eps) in [
        ("cnn", 2),
        ("cnn-bin", 3),
        ("sgbn", 6),
        ("sgbn-dt", 7),
        ("sgbn-authors", 6),
        ("cnn-authors", 2),
    ] {
        assert_eq!(fgsm_of(model), 3 * per_eps, "{model}");
    }
    // PGD-EOT with EOT on every stochastic model.
    let pgd = plan
        .of::<sgbn_eval::EvalJob>()
        .iter()
        .filter(|e| matches!(e.attack, sgbn_eval::AttackSpec::Pgd { .. }))
        .count();
    assert_eq!(pgd, 8);
}

#[test]
fn the_thesis_budget_profile_trains_as_the_thesis_once() {
    let full = Profile::named("full").expect("full");
    let budget = Profile::named("thesis-budget").expect("thesis-budget");
    assert_eq!(
        (
            budget.train_size,
            budget.epochs,
            budget.validation_size,
            budget.batch_size
        ),
        (
            full.train_size,
            full.epochs,
            full.validation_size,
            full.batch_size
        )
    );
    assert_eq!(
        (budget.runs, budget.fgsm_test, budget.protocol_test),
        (1, 10_000, 10_000)
    );
    assert!(budget.protocol_pgd_steps >= 100 && budget.protocol_eot >= 10);
    // Its training jobs are the full profile's (the cache is shared when
    // the output folder is).
    let data = data();
    assert_eq!(
        key_hash(&TrainJob::new("sgbn", 0, &budget, &data).expect("job")).expect("a"),
        key_hash(&TrainJob::new("sgbn", 0, &full, &data).expect("job")).expect("b")
    );
}

/// The vendored MNIST's checksums, in the order the CLI passes them.
fn vendored_mnist() -> Vec<String> {
    [
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ]
    .map(String::from)
    .to_vec()
}

/// The cache keys of the thesis-budget `protocol` study as its run of
/// 2026-11-30 wrote them (docs/campaign.md): a change that alters any of
/// them invalidates that campaign's cache, and must bump RESULTS_VERSION on
/// purpose instead. One unit of each kind.
#[test]
fn the_thesis_budget_campaign_keys_do_not_move() {
    let profile = Profile::named("thesis-budget").expect("profile");
    let data = vendored_mnist();
    let ctx = PlanContext {
        profile: &profile,
        data: &data,
        cifar: None,
    };
    let plan = Plan::build(
        &experiments::select(&["protocol".to_string()], false).expect("ids"),
        &ctx,
    )
    .expect("plan");
    let train = |m: &str| {
        let job = plan.trains.iter().find(|t| t.model == m).expect("trained");
        key_hash(job).expect("hash")
    };
    assert_eq!(train("sgbn-authors"), "497c91cb615a4511");
    assert_eq!(train("sgbn"), "f80f2493ead614f4");
    assert_eq!(train("cnn-bin-authors"), "5718f9a5b6f83e81");
    assert_eq!(train("cnn"), "ab7455f1b377af16");
    let evals: HashSet<String> = plan
        .of::<sgbn_eval::EvalJob>()
        .iter()
        .map(|e| key_hash(e).expect("hash"))
        .collect();
    // CNN, run 0: FGSM at ε 0 (the clean pass), FGSM ε 0.1 with CleverHans v1
    // labels and with true labels, PGD at ε 0.3.
    for key in [
        "204c1824d9e2c567",
        "9a9f3781a96a6b00",
        "6a921a1ce65bc9dc",
        "c721abd268a86134",
    ] {
        assert!(
            evals.contains(key),
            "evaluation {key} is gone from the plan"
        );
    }
    let transfers: HashSet<String> = plan
        .of::<sgbn_eval::TransferJob>()
        .iter()
        .map(|t| key_hash(t).expect("hash"))
        .collect();
    let maskings: HashSet<String> = plan
        .of::<sgbn_eval::MaskingJob>()
        .iter()
        .map(|t| key_hash(t).expect("hash"))
        .collect();
    assert!(transfers.contains("80365335fa672c6a"), "transfer set gone");
    assert_eq!((transfers.len(), maskings.len()), (8, 8));
    assert!(maskings.contains("483392c9cd596068"), "masking check gone");
}
