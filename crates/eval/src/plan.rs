//! From experiments and a profile to the list of jobs, deduplicated: a
//! model trained once serves every experiment that uses the same spec, and
//! an evaluation two experiments share runs once.

use std::collections::HashSet;

use crate::{
    AccuracyJob, CleanJob, EvalJob, ExamplesJob, Experiment, GateJob, GradientJob, Jobs,
    MaskingJob, PlanContext, Result, ToyJob, TrainJob, TransferJob, TsneJob, key_hash,
};

/// Everything one invocation computes, each job once, in first-use order.
#[derive(Debug, Default)]
pub struct Plan {
    /// Training runs.
    pub trains: Vec<TrainJob>,
    /// White-box evaluations.
    pub evals: Vec<EvalJob>,
    /// Clean checks.
    pub cleans: Vec<CleanJob>,
    /// Transfer sets.
    pub transfers: Vec<TransferJob>,
    /// Masking checks.
    pub maskings: Vec<MaskingJob>,
    /// Clean accuracies on a split.
    pub accuracies: Vec<AccuracyJob>,
    /// Adversarial examples kept as pixels.
    pub examples: Vec<ExamplesJob>,
    /// Gate measurements.
    pub gates: Vec<GateJob>,
    /// Input-gradient measurements.
    pub gradients: Vec<GradientJob>,
    /// Toy regression runs.
    pub toys: Vec<ToyJob>,
    /// t-SNE embeddings.
    pub tsnes: Vec<TsneJob>,
}

impl Plan {
    /// The deduplicated plan of `experiments`.
    pub fn build(experiments: &[&dyn Experiment], ctx: &PlanContext<'_>) -> Result<Self> {
        let mut plan = Self::default();
        let mut seen = HashSet::new();
        for exp in experiments {
            let Jobs {
                trains,
                evals,
                cleans,
                transfers,
                maskings,
                accuracies,
                examples,
                gates,
                gradients,
                toys,
                tsnes,
            } = exp.jobs(ctx)?;
            for t in trains {
                if seen.insert(format!("t{}", key_hash(&t)?)) {
                    plan.trains.push(t);
                }
            }
            for e in evals {
                if seen.insert(format!("e{}", key_hash(&e)?)) {
                    plan.evals.push(e);
                }
            }
            for c in cleans {
                if seen.insert(format!("c{}", key_hash(&c)?)) {
                    plan.cleans.push(c);
                }
            }
            for x in transfers {
                if seen.insert(format!("x{}", key_hash(&x)?)) {
                    plan.transfers.push(x);
                }
            }
            for m in maskings {
                if seen.insert(format!("m{}", key_hash(&m)?)) {
                    plan.maskings.push(m);
                }
            }
            for a in accuracies {
                if seen.insert(format!("a{}", key_hash(&a)?)) {
                    plan.accuracies.push(a);
                }
            }
            for x in examples {
                if seen.insert(format!("i{}", key_hash(&x)?)) {
                    plan.examples.push(x);
                }
            }
            for g in gates {
                if seen.insert(format!("g{}", key_hash(&g)?)) {
                    plan.gates.push(g);
                }
            }
            for g in gradients {
                if seen.insert(format!("d{}", key_hash(&g)?)) {
                    plan.gradients.push(g);
                }
            }
            for t in toys {
                if seen.insert(format!("y{}", key_hash(&t)?)) {
                    plan.toys.push(t);
                }
            }
            for t in tsnes {
                if seen.insert(format!("s{}", key_hash(&t)?)) {
                    plan.tsnes.push(t);
                }
            }
        }
        Ok(plan)
    }
}
