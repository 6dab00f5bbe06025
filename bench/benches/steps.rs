//! `cargo bench -p sgbn-bench` (run through `cargo xtask bench`, which adds
//! FLOP counts and ratios to the matmul rate).

use std::time::Duration;

use criterion::Criterion;
use sgbn_bench::{
    Iteration, PairedRound, adam_step, fgsm, gate_dense, masked_conv, matmul, memory_axpy,
    paired_rounds, train_step,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long each measurement runs: the full budget, or with
/// `SGBN_BENCH_QUICK=1` (`cargo xtask bench --quick`, run by CI) a short
/// one that checks the whole bench end to end; its numbers are not for
/// reporting.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// criterion's measurement time of a workload.
    workload: Duration,
    /// criterion's measurement time of a reference matmul.
    reference: Duration,
    /// Paired rounds per workload (see `sgbn_bench::paired_rounds`).
    rounds: usize,
    /// The time the workload runs in each paired round.
    min_workload: Duration,
}

impl Budget {
    fn from_env() -> Self {
        if std::env::var_os("SGBN_BENCH_QUICK").is_some_and(|v| v == "1") {
            Self {
                workload: Duration::from_millis(300),
                reference: Duration::from_millis(200),
                rounds: 2,
                min_workload: Duration::from_millis(20),
            }
        } else {
            Self {
                workload: Duration::from_secs(8),
                reference: Duration::from_secs(3),
                rounds: 7,
                min_workload: Duration::from_millis(400),
            }
        }
    }
}

/// Runs workload `group/id` under criterion, then in paired rounds with the
/// matmul; the rounds are kept in `paired` under `"group/id"`.
fn run(
    c: &mut Criterion,
    budget: Budget,
    paired: &mut Vec<(String, Vec<PairedRound>)>,
    group: &str,
    id: &str,
    make: impl FnOnce() -> Result<Iteration, sgbn_bench::Error>,
) {
    sgbn_bench::keep_freed_memory();
    let mut f = run_for(c, group, id, budget.workload, make);
    let mut reference = match matmul(2048) {
        Ok(m) => m,
        Err(e) => panic!("setting up the matmul: {e}"),
    };
    let rounds = paired_rounds(
        &mut f,
        &mut reference,
        budget.rounds,
        budget.min_workload,
        |f| sgbn_layers::on_worker_thread(f),
    );
    match rounds {
        Ok(r) => paired.push((format!("{group}/{id}"), r)),
        Err(e) => panic!("{group}/{id}, paired rounds: {e}"),
    }
}

fn run_for(
    c: &mut Criterion,
    group: &str,
    id: &str,
    measurement: Duration,
    make: impl FnOnce() -> Result<Iteration, sgbn_bench::Error>,
) -> Iteration {
    let mut f = match make() {
        Ok(f) => f,
        Err(e) => panic!("setting up {group}/{id}: {e}"),
    };
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2).min(measurement / 2))
        .measurement_time(measurement);
    // Each iteration on a rayon worker, as `cargo xtask` runs its commands
    // (`sgbn_layers::on_worker_thread`); the hand-off to the worker is
    // measured with it.
    g.bench_function(id, |b| {
        b.iter(|| {
            if let Err(e) = sgbn_layers::on_worker_thread(&mut f) {
                panic!("{group}/{id}: {e}");
            }
        })
    });
    g.finish();
    f
}

/// The reference matmul, run between every two workloads: the machine's
/// speed drifts (up to 1.6× within one run), so `cargo xtask bench` divides
/// each workload's rate by the matmul rates measured just before and after
/// it (`matmul/2048_{i}` and `matmul/2048_{i+1}`).
fn reference(c: &mut Criterion, budget: Budget, i: usize) {
    let _ = run_for(c, "matmul", &format!("2048_{i}"), budget.reference, || {
        matmul(2048)
    });
}

fn benches(c: &mut Criterion, budget: Budget) -> Vec<(String, Vec<PairedRound>)> {
    let mut paired = Vec::new();
    let mut i = 0;
    let mut next = |c: &mut Criterion| {
        reference(c, budget, i);
        i += 1;
    };
    for model in ["cnn", "cnn-bin", "sgbn"] {
        next(c);
        run(c, budget, &mut paired, "train_step_b50", model, || {
            train_step(model, 50)
        });
    }
    for model in ["cnn", "cnn-bin", "sgbn"] {
        next(c);
        run(c, budget, &mut paired, "fgsm_b500", model, || {
            fgsm(model, 500)
        });
    }
    next(c);
    run(c, budget, &mut paired, "kernel", "masked_conv2_b50", || {
        masked_conv(50)
    });
    next(c);
    run(c, budget, &mut paired, "kernel", "gate_dense_b50", || {
        gate_dense(50)
    });
    next(c);
    run(c, budget, &mut paired, "kernel", "adam_26m", || {
        adam_step(26_214_400)
    });
    next(c);
    run(c, budget, &mut paired, "kernel", "axpy_26m", || {
        memory_axpy(26_214_400)
    });
    next(c);
    paired
}

/// Writes the paired rounds as JSON to `$SGBN_PAIRED_OUT` (set by `cargo
/// xtask bench`), atomically.
fn write_paired(paired: &[(String, Vec<PairedRound>)]) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("SGBN_PAIRED_OUT") else {
        return Ok(());
    };
    let rounds: serde_json::Map<String, serde_json::Value> = paired
        .iter()
        .map(|(name, rounds)| {
            let list = rounds
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "workload_seconds": r.workload_seconds,
                        "matmul_before_seconds": r.matmul_before_seconds,
                        "matmul_after_seconds": r.matmul_after_seconds,
                    })
                })
                .collect();
            (name.clone(), serde_json::Value::Array(list))
        })
        .collect();
    let path = std::path::PathBuf::from(path);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&serde_json::json!({ "rounds": rounds }))?,
    )?;
    std::fs::rename(&tmp, &path)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let paired = benches(&mut c, Budget::from_env());
    c.final_summary();
    if let Err(e) = write_paired(&paired) {
        panic!("writing the paired rounds: {e}");
    }
}
