//! Runs one workload of `sgbn-bench` in a loop, for `perf record`:
//! `cargo run --release -p sgbn-bench --example profile -- train_step sgbn 20`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), sgbn_bench::Error> {
    sgbn_bench::keep_freed_memory();
    // As `cargo xtask` and the bench run workloads: each iteration on a rayon
    // worker; `OFF_WORKER=1` runs them on the main thread, for A/B runs.
    let off_worker = std::env::var_os("OFF_WORKER").is_some();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("train_step", String::as_str);
    let model = args.get(1).map_or("sgbn", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut f = match what {
        "train_step" => sgbn_bench::train_step(model, 50)?,
        "fgsm" => sgbn_bench::fgsm(model, 500)?,
        "masked_conv" => sgbn_bench::masked_conv(50)?,
        "gate_dense" => sgbn_bench::gate_dense(50)?,
        "adam" => sgbn_bench::adam_step(26_214_400)?,
        other => return Err(format!("unknown workload {other}").into()),
    };
    let mut run = || {
        if off_worker {
            f()
        } else {
            sgbn_layers::on_worker_thread(&mut f)
        }
    };
    run()?;
    let t = std::time::Instant::now();
    for _ in 0..n {
        run()?;
    }
    println!(
        "{what} {model}: {:.2} ms per iteration",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    Ok(())
}
