//! What the report tests share: a result store that answers each kind of
//! job through a closure (`None` for every kind not given), the thesis's
//! data folder, and one experiment's section from a store.

#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;

use sgbn_eval::{
    AccuracyJob, AccuracyResult, AnyWork, CleanJob, CleanResult, EvalJob, EvalResult, ExamplesJob,
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

/// `f`'s answer for `work` when it is a `J`, serialized as a cache stores it.
fn ask_as<J: 'static, R: serde::Serialize>(
    a: &Answer<'_, J, R>,
    work: &dyn AnyWork,
) -> Option<Option<serde_json::Value>> {
    let job = work.as_any().downcast_ref::<J>()?;
    Some(ask(a, job).and_then(|r| serde_json::to_value(r).ok()))
}

impl Results for Store<'_> {
    fn trained(&self, job: &TrainJob) -> Option<TrainedModel> {
        ask(&self.trained, job)
    }
    fn stored(&self, work: &dyn AnyWork, _key: &str) -> Option<serde_json::Value> {
        ask_as(&self.eval, work)
            .or_else(|| ask_as(&self.clean, work))
            .or_else(|| ask_as(&self.transfer, work))
            .or_else(|| ask_as(&self.masking, work))
            .or_else(|| ask_as(&self.accuracy, work))
            .or_else(|| ask_as(&self.examples, work))
            .or_else(|| ask_as(&self.gates, work))
            .or_else(|| ask_as(&self.gradients, work))
            .or_else(|| ask_as(&self.toy, work))
            .or_else(|| ask_as(&self.tsne, work))
            .flatten()
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
