//! `cargo bench -p sgbn-bench` (run through `cargo xtask bench`, which adds
//! FLOP counts and ratios to the matmul rate).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sgbn_bench::{Iteration, adam_step, fgsm, gate_dense, masked_conv, matmul, train_step};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn run(
    c: &mut Criterion,
    group: &str,
    id: &str,
    make: impl FnOnce() -> Result<Iteration, sgbn_bench::Error>,
) {
    let mut f = match make() {
        Ok(f) => f,
        Err(e) => panic!("setting up {group}/{id}: {e}"),
    };
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    g.bench_function(id, |b| {
        b.iter(|| {
            if let Err(e) = f() {
                panic!("{group}/{id}: {e}");
            }
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    run(c, "matmul", "2048", || matmul(2048));
    for model in ["cnn", "cnn-bin", "sgbn"] {
        run(c, "train_step_b50", model, || train_step(model, 50));
    }
    for model in ["cnn", "cnn-bin", "sgbn"] {
        run(c, "fgsm_b500", model, || fgsm(model, 500));
    }
    run(c, "kernel", "masked_conv2_b50", || masked_conv(50));
    run(c, "kernel", "gate_dense_b50", || gate_dense(50));
    run(c, "kernel", "adam_26m", || adam_step(26_214_400));
    // The matmul again at the end: the machine's rate can drift.
    run(c, "matmul", "2048_end", || matmul(2048));
}

criterion_group!(steps, benches);
criterion_main!(steps);
