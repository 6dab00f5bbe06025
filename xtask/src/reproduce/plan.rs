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
