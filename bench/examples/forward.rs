//! Loops the SGBN training-mode forward pass, for perf.
use candle_core::Device;
use rand::SeedableRng;
use sgbn_estimators::SeededRng;
use sgbn_models::{Classifier, ConvNet, ForwardContext, ModelSpec};
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() -> Result<(), sgbn_bench::Error> {
    sgbn_bench::keep_freed_memory();
    let model = ConvNet::new(&ModelSpec::named("sgbn")?, 0, &Device::Cpu)?;
    let (x, _) = sgbn_bench::images(50, 3)?;
    let mut rng = SeededRng::seed_from_u64(4);
    for _ in 0..30 {
        std::hint::black_box(model.forward(&x, ForwardContext::train(1.0), &mut rng)?);
    }
    Ok(())
}
