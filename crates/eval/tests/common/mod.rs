//! What the report tests share: a result store that answers each kind of
//! job through a closure (`None` for every kind not given), the thesis's
//! data folder, and one experiment's section from a store.

#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;

use sgbn_eval::{
    AccuracyJob, AccuracyResult, CleanJob, CleanResult, EvalJob, EvalResult, ExamplesJob,
    ExamplesResult, GateJob, GateResult, GradientJob, GradientResult, MaskingJob, MaskingResult,
    Profile, ReportContext, Results, Section, ToyJob, ToyResult, TrainJob, TrainedModel,
    TransferJob, TransferResult, TsneJob, TsneResult, experiments,
};

/// How a store answers one kind of job.
pub type Answer<'a, J, R> = Option<Box<dyn Fn(&J) -> Option<R> + 'a>>;

/// A store of known results, by kind of job.
#[derive(Default)]
pub struct Store<'a> {
    pub trained: Answer<'a, TrainJob, TrainedModel>,
    pub eval: Answer<'a, EvalJob, EvalResult>,
    pub clean: Answer<'a, CleanJob, CleanResult>,
    pub transfer: Answer<'a, TransferJob, TransferResult>,
    pub masking: Answer<'a, MaskingJob, MaskingResult>,
    pub accuracy: Answer<'a, AccuracyJob, AccuracyResult>,
    pub examples: Answer<'a, ExamplesJob, ExamplesResult>,
    pub gates: Answer<'a, GateJob, GateResult>,
    pub gradients: Answer<'a, GradientJob, GradientResult>,
    pub toy: Answer<'a, ToyJob, ToyResult>,
    pub tsne: Answer<'a, TsneJob, TsneResult>,
}

/// Wraps a closure as an [`Answer`].
pub fn answer<'a, J, R>(f: impl Fn(&J) -> Option<R> + 'a) -> Answer<'a, J, R> {
    Some(Box::new(f))
}

fn ask<J, R>(a: &Answer<'_, J, R>, job: &J) -> Option<R> {
    a.as_ref().and_then(|f| f(job))
}

impl Results for Store<'_> {
    fn trained(&self, job: &TrainJob) -> Option<TrainedModel> {
        ask(&self.trained, job)
    }
    fn eval(&self, job: &EvalJob) -> Option<EvalResult> {
        ask(&self.eval, job)
    }
    fn clean(&self, job: &CleanJob) -> Option<CleanResult> {
        ask(&self.clean, job)
    }
    fn transfer(&self, job: &TransferJob) -> Option<TransferResult> {
        ask(&self.transfer, job)
    }
    fn masking(&self, job: &MaskingJob) -> Option<MaskingResult> {
        ask(&self.masking, job)
    }
    fn accuracy(&self, job: &AccuracyJob) -> Option<AccuracyResult> {
        ask(&self.accuracy, job)
    }
    fn examples(&self, job: &ExamplesJob) -> Option<ExamplesResult> {
        ask(&self.examples, job)
    }
    fn gates(&self, job: &GateJob) -> Option<GateResult> {
        ask(&self.gates, job)
    }
    fn gradients(&self, job: &GradientJob) -> Option<GradientResult> {
        ask(&self.gradients, job)
    }
    fn toy(&self, job: &ToyJob) -> Option<ToyResult> {
        ask(&self.toy, job)
    }
    fn tsne(&self, job: &TsneJob) -> Option<TsneResult> {
        ask(&self.tsne, job)
    }
}

/// The thesis's numbers: `data/thesis/`, which the crate links as `thesis/`
/// so that its package ships them (40 KB) and these tests run from it too.
pub fn thesis_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("thesis")
}

/// Checksums standing in for the data files'.
pub fn data() -> Vec<String> {
    vec!["a".repeat(64)]
}

/// Experiment `id`'s section from `results` under `profile`.
pub fn section(id: &str, profile: &Profile, results: &dyn Results) -> Section {
    let data = data();
    let dir = thesis_dir();
    let ctx = ReportContext {
        profile,
        data: &data,
        cifar: None,
        results,
        thesis_dir: &dir,
        thesis_budget: None,
    };
    experiments::find(id)
        .expect("id")
        .report(&ctx)
        .expect("section")
}
