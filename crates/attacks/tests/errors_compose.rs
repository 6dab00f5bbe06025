//! sgbn's errors as a user's own candle code meets them: `?` inside a
//! function that returns `candle_core::Result` and inside `Module::forward`.

use candle_core::{DType, Device, Module, Tensor};
use sgbn_layers::{MaskedConv2d, MaskedConv2dConfig, SeededVarMap, masked_conv2d};

/// A user's module holding an sgbn layer; `forward` is candle's.
struct MyNet {
    conv: MaskedConv2d,
}

impl Module for MyNet {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        // sgbn-layers' own error type, through `?`.
        let h = self.conv.forward_masked(x, None)?;
        h.relu()
    }
}

fn build(filters: usize) -> candle_core::Result<MyNet> {
    let vars = SeededVarMap::new(0);
    let conv = masked_conv2d(
        1,
        filters,
        3,
        MaskedConv2dConfig::default(),
        vars.var_builder(DType::F32, &Device::Cpu),
    )?; // LayerError → candle_core::Error
    Ok(MyNet { conv })
}

fn attack_config(eps: f64) -> candle_core::Result<String> {
    use sgbn_attacks::Attack;
    Ok(sgbn_attacks::GradientAttack::fgsm(eps)?.name()) // AttackError
}

fn spec(name: &str) -> candle_core::Result<usize> {
    Ok(sgbn_models::ModelSpec::named(name)?.classes) // ModelError
}

fn noise(like: &Tensor) -> candle_core::Result<Tensor> {
    use rand::SeedableRng;
    let mut rng = sgbn_estimators::SeededRng::seed_from_u64(0);
    sgbn_estimators::uniform_like(like, &mut rng).map_err(Into::into) // EstimatorError
}

#[test]
fn each_error_passes_through_question_marks_in_candle_code_with_its_message() {
    let net = build(4).expect("net");
    let x = Tensor::zeros((2, 1, 6, 6), DType::F32, &Device::Cpu).expect("x");
    assert_eq!(net.forward(&x).expect("forward").dims(), &[2, 4, 4, 4]);
    // A bad input reaches the caller as a candle error that names it.
    let wrong = Tensor::zeros((2, 3, 6, 6), DType::F32, &Device::Cpu).expect("x");
    let e = net
        .forward(&wrong)
        .expect_err("3 channels for a 1-channel conv");
    assert!(e.to_string().contains("input of shape"), "{e}");
    let e = build(0).err().expect("0 filters");
    assert!(e.to_string().contains("configuration"), "{e}");
    assert!(
        attack_config(2.0)
            .expect_err("ε 2")
            .to_string()
            .contains("ε = 2")
    );
    assert!(
        spec("no-such-model")
            .expect_err("name")
            .to_string()
            .contains("no-such-model")
    );
    assert_eq!(noise(&x).expect("noise").dims(), x.dims());
    // A candle error inside comes back as itself, not wrapped twice.
    let inner = candle_core::Error::Msg("inner".into());
    let back: candle_core::Error = sgbn_layers::LayerError::Candle(inner).into();
    assert!(matches!(back, candle_core::Error::Msg(ref m) if m == "inner"));
}
