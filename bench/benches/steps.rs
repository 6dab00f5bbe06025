//! `cargo bench -p sgbn-bench` (run through `cargo xtask bench`, which adds
//! FLOP counts and ratios to the matmul rate).

use std::time::Duration;

use criterion::Criterion;
use sgbn_bench::{Iteration, adam_step, fgsm, gate_dense, masked_conv, matmul, train_step};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn run(
    c: &mut Criterion,
    group: &str,
    id: &str,
    make: impl FnOnce() -> Result<Iteration, sgbn_bench::Error>,
) {
    run_for(c, group, id, Duration::from_secs(8), make);
}

fn run_for(
    c: &mut Criterion,
    group: &str,
    id: &str,
    measurement: Duration,
    make: impl FnOnce() -> Result<Iteration, sgbn_bench::Error>,
) {
    let mut f = match make() {
        Ok(f) => f,
        Err(e) => panic!("setting up {group}/{id}: {e}"),
    };
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2).min(measurement))
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
}

/// The reference matmul, run between every two workloads: the machine's
/// speed drifts (up to 1.6× within one run), so `cargo xtask bench` divides
/// each workload's rate by the matmul rates measured just before and after
/// it (`matmul/2048_{i}` and `matmul/2048_{i+1}`).
fn reference(c: &mut Criterion, i: usize) {
    run_for(
        c,
        "matmul",
        &format!("2048_{i}"),
        Duration::from_secs(3),
        || matmul(2048),
    );
}

fn benches(c: &mut Criterion) {
    let mut i = 0;
    let mut next = |c: &mut Criterion| {
        reference(c, i);
        i += 1;
    };
    for model in ["cnn", "cnn-bin", "sgbn"] {
        next(c);
        run(c, "train_step_b50", model, || train_step(model, 50));
    }
    for model in ["cnn", "cnn-bin", "sgbn"] {
        next(c);
        run(c, "fgsm_b500", model, || fgsm(model, 500));
    }
    next(c);
    run(c, "kernel", "masked_conv2_b50", || masked_conv(50));
    next(c);
    run(c, "kernel", "gate_dense_b50", || gate_dense(50));
    next(c);
    run(c, "kernel", "adam_26m", || adam_step(26_214_400));
    next(c);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
