//! FGSM on a batch of 500 against a trainable and a frozen victim, in
//! turns, in one run: what skipping the parameter gradients saves.
//! `cargo run --release -p sgbn-bench --example frozen_victim -- sgbn`
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), sgbn_bench::Error> {
    sgbn_bench::keep_freed_memory();
    let model = std::env::args().nth(1).unwrap_or_else(|| "sgbn".into());
    let mut trainable = sgbn_bench::fgsm_with(&model, 500, false)?;
    let mut frozen = sgbn_bench::fgsm_with(&model, 500, true)?;
    trainable()?;
    frozen()?;
    let (mut t, mut f) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let s = Instant::now();
        trainable()?;
        t.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        frozen()?;
        f.push(s.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (t, f) = (median(&mut t), median(&mut f));
    println!(
        "{model}: FGSM b500 trainable victim {:.0} ms, frozen victim {:.0} ms, ratio {:.2}",
        1e3 * t,
        1e3 * f,
        f / t
    );
    Ok(())
}
