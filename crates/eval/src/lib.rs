//! # sgbn-eval
//!
//! One evaluation protocol, and the thesis's experiments as a library.
//!
//! - [`AttackSpec`]: an attack as data, with the thesis's defaults;
//!   [`evaluate`] runs it over a test set and measures accuracy (one
//!   judging pass, and repeated passes for stochastic models), distortion
//!   and cost; [`clean_check`] measures clean accuracy over repeated passes
//!   and the input gradients, the evidence of the
//!   [`SanityFlags`](sgbn_metrics::SanityFlags). `cargo xtask attack` and
//!   every experiment call these, and nothing else evaluates.
//! - [`audit()`]: a gradient-masking audit of any classifier (a model of
//!   `sgbn-models` or any [`Victim`](sgbn_attacks::Victim)): every attack
//!   that applies, the checklist of Athalye et al. (2018) and Carlini et al.
//!   (2019) as verdicts, the per-image worst case and a one-line verdict
//!   (`examples/audit_own_model.rs`; `cargo xtask audit` on files).
//! - [`Experiment`]: one thesis figure or table (or a study beyond the
//!   thesis) as the jobs it needs under a [`Profile`] and the report
//!   [`Section`] it writes from their results; one file per experiment in
//!   [`experiments`], listed by [`experiments::all`].
//! - [`Plan`]: the deduplicated jobs of several experiments; every job is
//!   keyed by [`key_hash`] of its whole configuration.
//!
//! Where results are kept (the cache on disk), progress display and drawing
//! figures belong to the caller (`cargo xtask reproduce`).
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use sgbn_attacks::Victim;
//! use sgbn_estimators::SeededRng;
//! use sgbn_eval::{AttackSpec, EvalConfig, evaluate};
//! use rand::SeedableRng;
//!
//! /// A two-class linear model on 4-pixel images: logits (x·w, −x·w).
//! struct Linear(Tensor);
//!
//! impl Victim for Linear {
//!     fn logits(&self, x: &Tensor, _rng: &mut SeededRng) -> sgbn_attacks::Result<Tensor> {
//!         let z = x.flatten_from(1)?.matmul(&self.0)?;
//!         Ok(Tensor::cat(&[&z, &z.neg()?], 1)?)
//!     }
//!     fn is_stochastic(&self) -> bool {
//!         false
//!     }
//!     fn num_classes(&self) -> usize {
//!         2
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dev = Device::Cpu;
//! let model = Linear(Tensor::new(&[[1f32], [1.0], [-1.0], [-1.0]], &dev)?);
//! // Two images, both classified correctly with a margin of 0.4.
//! let x = Tensor::new(&[0.6f32, 0.6, 0.4, 0.4, 0.4, 0.4, 0.6, 0.6], &dev)?.reshape((2, 1, 2, 2))?;
//! let y = Tensor::new(&[0u32, 1], &dev)?;
//! let mut rng = SeededRng::seed_from_u64(0);
//! let weak = evaluate(&model, &AttackSpec::fgsm(0.05), &EvalConfig::default(), &x, &y, &mut rng)?;
//! let strong = evaluate(&model, &AttackSpec::fgsm(0.2), &EvalConfig::default(), &x, &y, &mut rng)?;
//! assert_eq!((weak.accuracy, strong.accuracy), (1.0, 0.0));
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod accuracy_job;
mod attack_request;
mod attack_spec;
pub mod audit;
mod cached_result;
mod clean_check;
pub mod draw;
mod error;
mod evaluate;
mod examples_job;
mod experiment;
pub mod experiments;
mod gate_job;
mod gradient_job;
mod jobs;
mod key;
mod masking_check;
mod plan;
mod profile;
mod report;
mod shards;
mod stage_rng;
mod thesis_budget_notes;
mod toy_job;
mod tsne_job;
mod work;

pub use accuracy_job::{AccuracyJob, AccuracyResult, Split};
pub use attack_request::{AttackName, AttackOptions, DEFAULT_SQUARE_QUERIES};
pub use attack_spec::{
    AttackSpec, DEFAULT_APGD_STEPS, DEFAULT_PGD_STEPS, GradientOptions, THESIS_ITERATIVE_STEP,
    THESIS_ITERATIVE_STEPS, default_iterative_step, default_pgd_step,
};
pub use audit::{
    AuditBudget, AuditCache, AuditData, AuditHooks, AuditIdentity, AuditReport, AuditTarget, audit,
    audit_with,
};
pub use cached_result::{CACHE_KEY_FIELD, check_cached_result};
pub use clean_check::{CleanCheck, CleanConfig, clean_check};
pub use error::{EvalError, Result};
pub use evaluate::{
    AttackCost, EvalConfig, EvalResult, WorstCase, evaluate, evaluate_model, evaluate_transfer,
    evaluate_with_progress, worst_case,
};
pub use examples_job::{Example, ExamplesJob, ExamplesResult};
pub use experiment::{CifarInputs, Experiment, ExperimentInfo, Jobs, PlanContext, ReportContext};
pub use gate_job::{GateExample, GateJob, GateResult, GateSummary};
pub use gradient_job::{GradientJob, GradientResult};
pub use jobs::{
    CleanJob, CleanResult, EvalJob, JOB_BATCH, MaskingJob, MaskingResult, ModelLoader, PROBE_LR,
    SHUFFLED_SUFFIX, TrainJob, TrainedModel, TransferJob, TransferResult, is_cifar10,
};
pub use key::{RESULTS_VERSION, key_hash};
pub use masking_check::{MaskingPoint, masking_check};
pub use plan::Plan;
pub use profile::Profile;
pub use report::{
    AssembledReport, BarPanel, Cell, Figure, GrayImage, PixelScale, ScatterPanel, Section, Series,
    assemble, eps_columns, eps_eq, fmt_summary, summary, verdict,
};
pub use shards::{Shard, assign_shards};
pub use stage_rng::stage_rng;
pub use thesis_budget_notes::ThesisBudgetNotes;
pub use toy_job::{TOY_BINS, TOY_CURVE_EVERY, TOY_LR, ToyJob, ToyResult};
pub use tsne_job::{AGREEMENT_NEIGHBOURS, TsneJob, TsneResult, knn_agreement};
pub use work::{AnyWork, DataSource, ModelSource, Planned, Results, Work, WorkInputs, run_stem};

/// Whether sgbn can build the named model (experiments skip, and the report
/// names, the models it cannot).
pub fn available(model: &str) -> bool {
    sgbn_models::ModelSpec::named(model).is_ok()
}
