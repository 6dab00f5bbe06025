//! From experiments and a profile to the list of jobs, deduplicated: a
//! model trained once serves every experiment that uses the same spec, and
//! a unit of work two experiments share runs once.

use std::collections::HashSet;

use crate::{
    Experiment, Jobs, PlanContext, Result, TrainJob, key_hash,
    work::{Planned, Work},
};

/// Everything one invocation computes, each job once, in first-use order.
#[derive(Debug, Default)]
pub struct Plan {
    /// Training runs.
    pub trains: Vec<TrainJob>,
    /// Every other unit of work, with its key.
    pub work: Vec<Planned>,
}

impl Plan {
    /// The deduplicated plan of `experiments`: each unit's key is computed
    /// here, once.
    pub fn build(experiments: &[&dyn Experiment], ctx: &PlanContext<'_>) -> Result<Self> {
        let mut plan = Self::default();
        let mut seen = HashSet::new();
        for exp in experiments {
            let Jobs { trains, work } = exp.jobs(ctx)?;
            for t in trains {
                if seen.insert(format!("train-{}", key_hash(&t)?)) {
                    plan.trains.push(t);
                }
            }
            for w in work {
                let planned = Planned::new(w)?;
                if seen.insert(planned.claim()) {
                    plan.work.push(planned);
                }
            }
        }
        Ok(plan)
    }

    /// Its units of kind `W`, in order.
    pub fn of<W: Work>(&self) -> Vec<&W> {
        self.work.iter().filter_map(Planned::downcast).collect()
    }

    /// Its units of `kind` ([`Work::KIND`]).
    pub fn count(&self, kind: &str) -> usize {
        self.work.iter().filter(|p| p.work.kind() == kind).count()
    }
}
