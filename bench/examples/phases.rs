use candle_core::Device;
use rand::SeedableRng;
use sgbn_defenses::{Adam, AdamConfig};
use sgbn_estimators::SeededRng;
use sgbn_models::{Classifier, ConvNet, ForwardContext, ModelSpec};
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() -> Result<(), sgbn_bench::Error> {
    sgbn_bench::keep_freed_memory();
    let name = std::env::args().nth(1).unwrap_or("sgbn".into());
    let spec = ModelSpec::named(&name)?;
    let model = ConvNet::new(&spec, 0, &Device::Cpu)?;
    let mut adam = Adam::new(model.trainable(), AdamConfig::default())?;
    let (x, y) = sgbn_bench::images(50, 3)?;
    let mut rng = SeededRng::seed_from_u64(4);
    let (mut tf, mut tb, mut ta) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        let t0 = std::time::Instant::now();
        let logits = model.forward(&x, ForwardContext::train(1.0), &mut rng)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        let t1 = std::time::Instant::now();
        let g = loss.backward()?;
        let t2 = std::time::Instant::now();
        adam.step(&g)?;
        drop(g);
        let t3 = std::time::Instant::now();
        if i >= 2 {
            tf += (t1 - t0).as_secs_f64();
            tb += (t2 - t1).as_secs_f64();
            ta += (t3 - t2).as_secs_f64();
        }
    }
    println!(
        "{name}: forward {:.1} ms, backward {:.1} ms, adam+drop {:.1} ms",
        tf * 100.0,
        tb * 100.0,
        ta * 100.0
    );
    Ok(())
}
