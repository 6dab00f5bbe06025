//! The toy regression experiment of §4.6.5 (Tables 4.9–4.10): the jobs and
//! results shared by `fig4.25` and `fig4.27`–`fig4.31`. Five networks — the
//! MLP (WOGM) and SGBN's gate with / without the weight inputs (GM /
//! GMWOW), stochastic binary (ST) or σ (DT) — each trained
//! [`crate::Profile::toy_runs`] times from scratch.

use crate::{PlanContext, ReportContext, Result, ToyJob, ToyResult};

/// The networks, in the thesis's order, with their labels (Fig. 4.27).
pub const TOY_MODELS: [(&str, &str); 5] = [
    ("toy-mlp", "WOGM"),
    ("toy-gm-st", "GM_ST"),
    ("toy-gm-dt", "GM_DT"),
    ("toy-gmwow-st", "GMWOW_ST"),
    ("toy-gmwow-dt", "GMWOW_DT"),
];

/// The iterations whose σ(a) Fig. 4.29 shows: 0, 1/5, 3/5 and all of the
/// run (the thesis: 0, 1,000, 3,000, 5,000 of 5,000).
pub fn snapshots(iterations: usize) -> Vec<usize> {
    vec![0, iterations / 5, 3 * iterations / 5, iterations]
}

/// Run `run` of toy network `model` under the profile.
pub fn toy_job(ctx: &PlanContext<'_>, model: &str, run: usize) -> ToyJob {
    let it = ctx.profile.toy_iterations;
    ToyJob::new(model, run, it, &snapshots(it))
}

/// Every run of every toy network.
pub fn all_jobs(ctx: &PlanContext<'_>) -> Vec<ToyJob> {
    (0..ctx.profile.toy_runs)
        .flat_map(|run| TOY_MODELS.iter().map(move |(m, _)| (*m, run)))
        .map(|(m, run)| toy_job(ctx, m, run))
        .collect()
}

/// The finished runs of `model`, in run order.
pub fn finished(ctx: &ReportContext<'_>, model: &str) -> Vec<ToyResult> {
    let plan = ctx.plan();
    (0..ctx.profile.toy_runs)
        .filter_map(|run| ctx.results.get(&toy_job(&plan, model, run)))
        .collect()
}

/// The finished run of `model` with the lowest test error (the thesis
/// shows "the best results among 30 training from scratch").
pub fn best(ctx: &ReportContext<'_>, model: &str) -> Option<ToyResult> {
    finished(ctx, model)
        .into_iter()
        .min_by(|a, b| a.test_mse.total_cmp(&b.test_mse))
}

/// The jobs of an experiment that uses every toy network.
pub fn jobs(ctx: &PlanContext<'_>) -> Result<crate::Jobs> {
    let mut jobs = crate::Jobs::default();
    jobs.extend(all_jobs(ctx));
    Ok(jobs)
}
