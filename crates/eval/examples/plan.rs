//! The thesis's experiments as a library: the default set's plan under the
//! `quick` profile (its training runs and evaluations, deduplicated across
//! experiments, with their cost), without running anything.
//!
//! `cargo run --release -p sgbn-eval --example plan`

use sgbn_eval::{Plan, PlanContext, Profile, experiments};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let profile = Profile::named("quick")?;
    for line in profile.describe() {
        println!("{line}");
    }
    let selected = experiments::select(&[], false)?;
    // The data's checksums are part of every training job's key; any string
    // stands for them here.
    let data = vec!["checksums of the MNIST files".to_string()];
    let plan = Plan::build(
        &selected,
        &PlanContext {
            profile: &profile,
            data: &data,
            cifar: None,
        },
    )?;
    println!(
        "{} experiments → {} training runs and {} other units of work:",
        selected.len(),
        plan.trains.len(),
        plan.work.len()
    );
    // Each unit says what kind of work it is (sgbn_eval::Work).
    let mut per_kind = std::collections::BTreeMap::<&str, usize>::new();
    for unit in &plan.work {
        *per_kind.entry(unit.work.noun()).or_default() += 1;
    }
    for (noun, n) in per_kind {
        println!("  {n:>5} {noun}");
    }
    let mut per_model = std::collections::BTreeMap::<&str, usize>::new();
    for t in &plan.trains {
        *per_model.entry(t.model.as_str()).or_default() += 1;
    }
    for (model, runs) in per_model {
        println!("  {model:<16} {runs} run(s)");
    }
    Ok(())
}
