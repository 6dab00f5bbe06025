//! Each binary-unit estimator on one tensor: its forward values and the
//! gradient it passes back (thesis eq. 2.11–2.19).
//!
//! `cargo run --release -p sgbn-estimators --example estimators`

use candle_core::{Device, Tensor, Var};
use sgbn_estimators::{
    bernoulli_hard_ste, bernoulli_soft_ste, deterministic_binary, seeded_rng, sigmoid_probability,
    sign_ste, stochastic_sign_ste,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = Var::from_tensor(&Tensor::new(&[-2f32, -0.5, 0.0, 0.5, 2.0], &Device::Cpu)?)?;
    let mut rng = seeded_rng(0);
    let slope = 2.0;
    let outputs = [
        ("bernoulli_hard_ste", bernoulli_hard_ste(&a, &mut rng)?),
        (
            "bernoulli_soft_ste",
            bernoulli_soft_ste(&a, slope, &mut rng)?,
        ),
        ("deterministic_binary", deterministic_binary(&a, slope)?),
        ("sigmoid_probability", sigmoid_probability(&a, slope)?),
        ("sign_ste", sign_ste(&a)?),
        ("stochastic_sign_ste", stochastic_sign_ste(&a, &mut rng)?),
    ];
    println!("a = {:?}", a.as_tensor().to_vec1::<f32>()?);
    for (name, h) in outputs {
        // d(sum h)/da: the estimator's surrogate gradient.
        let grads = h.sum_all()?.backward()?;
        let g = grads.get(&a).map(|g| g.to_vec1::<f32>()).transpose()?;
        let values = h.to_vec1::<f32>()?;
        println!("{name:<22} h = {values:?}\n{:<22} dh/da = {g:?}", "");
        // Every binary estimator's forward value is exactly binary.
        if name != "sigmoid_probability" {
            assert!(
                values.iter().all(|v| [0.0, 1.0, -1.0].contains(v)),
                "{name}"
            );
        }
        assert!(g.is_some(), "{name} passed no gradient");
    }
    Ok(())
}
