//! From experiments and a profile to the list of jobs, deduplicated: a
//! model trained once serves every experiment that uses the same spec.

use std::collections::HashSet;

use super::{
    jobs::{AttackSpec, CleanJob, EvalJob, RESULTS_VERSION, TrainJob, TransferJob, key_hash},
    profile::Profile,
    registry::{Experiment, Kind, available},
};

/// Everything one invocation computes.
#[derive(Debug, Default)]
pub struct Plan {
    pub trains: Vec<TrainJob>,
    pub evals: Vec<EvalJob>,
    pub cleans: Vec<CleanJob>,
    pub transfers: Vec<TransferJob>,
}

/// The budgets of Table 4.11.
pub const TABLE_EPS: [f64; 4] = [0.0, 0.1, 0.2, 0.3];
/// The budget of the transfer experiments.
pub const TRANSFER_EPS: f64 = 0.3;

/// The evaluation jobs of one experiment for one model and run.
pub fn evals_for(exp: &Experiment, job: &TrainJob, profile: &Profile) -> Vec<EvalJob> {
    let eval = |attack, test_size, repeats| EvalJob {
        version: RESULTS_VERSION,
        model: job.clone(),
        attack,
        test_size,
        repeats,
    };
    match exp.kind {
        Kind::FgsmCurve => profile
            .fgsm_eps
            .iter()
            .map(|&eps| eval(AttackSpec::Fgsm { eps }, profile.fgsm_test, 1))
            .collect(),
        Kind::Table => TABLE_EPS
            .iter()
            .map(|&eps| eval(AttackSpec::Fgsm { eps }, profile.fgsm_test, 1))
            .collect(),
        Kind::Iterative => {
            let (step, steps) = (profile.iterative_step, profile.iterative_steps);
            profile
                .iterative_eps
                .iter()
                .flat_map(|&eps| {
                    [
                        eval(
                            AttackSpec::Bim { eps, step, steps },
                            profile.iterative_test,
                            1,
                        ),
                        eval(
                            AttackSpec::Ill { eps, step, steps },
                            profile.iterative_test,
                            1,
                        ),
                    ]
                })
                .collect()
        }
        Kind::Adaptive => {
            let stochastic = job.spec.is_stochastic();
            let eot = if stochastic { profile.eot } else { 1 };
            profile
                .adaptive_eps
                .iter()
                .flat_map(|&eps| {
                    let steps = profile.pgd_steps;
                    [
                        eval(
                            AttackSpec::Fgsm { eps },
                            profile.adaptive_test,
                            profile.repeats,
                        ),
                        eval(
                            AttackSpec::Pgd {
                                eps,
                                step: 2.5 * eps / steps as f64,
                                steps,
                                eot,
                            },
                            profile.adaptive_test,
                            profile.repeats,
                        ),
                        eval(
                            AttackSpec::Square {
                                eps,
                                queries: profile.square_queries,
                                eot: 1,
                            },
                            profile.adaptive_test,
                            profile.repeats,
                        ),
                    ]
                })
                .collect()
        }
        Kind::Transfer { .. } => Vec::new(),
    }
}

/// Runs of an experiment under a profile.
pub fn runs_of(exp: &Experiment, profile: &Profile) -> usize {
    if exp.kind == Kind::Adaptive {
        profile.adaptive_runs
    } else {
        profile.runs
    }
}

/// The deduplicated plan of `experiments`.
pub fn build(
    experiments: &[Experiment],
    profile: &Profile,
    data: &[String],
) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    let add_train =
        |plan: &mut Plan, job: &TrainJob, seen: &mut HashSet<String>| -> anyhow::Result<()> {
            if seen.insert(format!("t{}", key_hash(job)?)) {
                plan.trains.push(job.clone());
            }
            Ok(())
        };
    for exp in experiments {
        for run in 0..runs_of(exp, profile) {
            let models: Vec<&str> = exp
                .models
                .iter()
                .copied()
                .filter(|m| available(m))
                .collect();
            let jobs: Vec<TrainJob> = models
                .iter()
                .map(|m| TrainJob::new(m, run, profile, data))
                .collect::<anyhow::Result<_>>()?;
            for job in &jobs {
                add_train(&mut plan, job, &mut seen)?;
                for e in evals_for(exp, job, profile) {
                    if seen.insert(format!("e{}", key_hash(&e)?)) {
                        plan.evals.push(e);
                    }
                }
                if exp.kind == Kind::Adaptive {
                    let c = CleanJob {
                        version: RESULTS_VERSION,
                        model: job.clone(),
                        test_size: profile.adaptive_test,
                        repeats: profile.repeats,
                    };
                    if seen.insert(format!("c{}", key_hash(&c)?)) {
                        plan.cleans.push(c);
                    }
                }
            }
            if let Kind::Transfer { sources, targets } = exp.kind {
                for t in transfers_of(sources, targets, run, profile, data)? {
                    if seen.insert(format!("x{}", key_hash(&t)?)) {
                        plan.transfers.push(t);
                    }
                }
            }
        }
    }
    Ok(plan)
}

/// The transfer jobs of one run.
pub fn transfers_of(
    sources: &[&str],
    targets: &[&str],
    run: usize,
    profile: &Profile,
    data: &[String],
) -> anyhow::Result<Vec<TransferJob>> {
    let target_jobs: Vec<TrainJob> = targets
        .iter()
        .filter(|m| available(m))
        .map(|m| TrainJob::new(m, run, profile, data))
        .collect::<anyhow::Result<_>>()?;
    sources
        .iter()
        .filter(|m| available(m))
        .map(|m| {
            Ok(TransferJob {
                version: RESULTS_VERSION,
                source: TrainJob::new(m, run, profile, data)?,
                targets: target_jobs.clone(),
                eps: TRANSFER_EPS,
                test_size: profile.fgsm_test,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::registry::select;

    fn data() -> Vec<String> {
        vec!["a".repeat(64), "b".repeat(64)]
    }

    #[test]
    fn a_model_is_trained_once_for_every_experiment_that_uses_it() {
        let profile = Profile::named("smoke").expect("smoke");
        let exps = select(
            &["fig4.3".into(), "table4.11".into(), "fig4.13".into()],
            false,
        )
        .expect("ids");
        let plan = build(&exps, &profile, &data()).expect("plan");
        // fig4.3: cnn, cnn-bin, sap, bnn-pgd, bnn, sgbn; table4.11 adds
        // sgbn-dt, random-mask, dropconnect; fig4.13 adds nothing new. One
        // run each.
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
    fn the_default_set_is_the_headline_set_and_full_runs_everything() {
        let ids = |all| {
            select(&[], all)
                .expect("select")
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        };
        assert!(ids(false).contains(&"fig4.3"));
        assert!(!ids(false).contains(&"table4.11-more"));
        assert!(ids(true).contains(&"table4.11-more"));
        assert_eq!(ids(true).len(), super::super::registry::EXPERIMENTS.len());
        // --only reaches a non-headline experiment.
        let only = select(&["table4.11-more".into()], false).expect("only");
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
        let e = select(&["fig9.9".into()], false).expect_err("unknown id");
        assert!(e.to_string().contains("fig9.9") && e.to_string().contains("fig4.3"));
    }
}
