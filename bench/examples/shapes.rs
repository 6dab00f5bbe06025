//! Times the matrix products of the SGBN gate's big layer, for profiling.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn time(
    label: &str,
    flops: f64,
    mut f: impl FnMut() -> candle_core::Result<candle_core::Tensor>,
) -> candle_core::Result<()> {
    f()?;
    let n = 10;
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(f()?);
    }
    let s = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "{label:<40} {:>8.2} ms {:>7.1} GFLOP/s",
        s * 1e3,
        flops / s / 1e9
    );
    Ok(())
}
fn main() -> Result<(), sgbn_bench::Error> {
    sgbn_bench::keep_freed_memory();
    let u = sgbn_bench::uniform;
    let x = u(&[50, 512], -1.0, 1.0, 1)?;
    let w = u(&[512, 51200], -1.0, 1.0, 2)?;
    let dy = u(&[50, 51200], -1.0, 1.0, 3)?;
    let f = 2.0 * 50.0 * 512.0 * 51200.0;
    time("fwd x@W", f, || x.matmul(&w))?;
    time("dx = dy@W^T (view)", f, || dy.matmul(&w.t()?))?;
    time("dW = x^T@dy (view)", f, || x.t()?.matmul(&dy))?;
    let wt = w.t()?.contiguous()?;
    time("dx = dy@(W^T contiguous)", f, || dy.matmul(&wt))?;
    time("zeros_like W", 0.0, || w.zeros_like())?;
    time("W + W", 0.0, || &w + &w)?;
    let a = u(&[2048, 2048], -1.0, 1.0, 4)?;
    time("2048^3", 2.0 * 2048f64.powi(3), || a.matmul(&a))?;
    Ok(())
}
