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
    for e in &plan.evals {
        assert!(
            keys.insert(key_hash(e).expect("hash")),
            "duplicate evaluation {e:?}"
        );
    }
    let sgbn_evals = plan
        .evals
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
    assert_eq!(plan.cleans.len(), models);
    assert_eq!(
        plan.evals.len(),
        models * 3 * profile.adaptive_eps.len(),
        "FGSM, PGD and Square at each ε"
    );
    // EOT only on the stochastic models.
    for e in &plan.evals {
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
    assert_eq!(plan.maskings.len(), 8);
    assert_eq!(plan.transfers.len(), 8, "each from its partner");
    let fgsm_of = |model: &str| {
        plan.evals
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
        .evals
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
