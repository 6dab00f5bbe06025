//! A network of your own with an SGBN gate (eq. 4.1–4.2): a gated
//! `MaskedConv2d` beside plain candle-nn layers, trained a few steps.
//!
//! `cargo run --release -p sgbn-layers --example own_model`

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Optimizer, ParamsAdamW, VarBuilder};
use sgbn_estimators::{seeded_rng, uniform_like};
use sgbn_layers::{
    GateConfig, GateModule, MaskedConv2d, MaskedConv2dConfig, SeededVarMap, gate_for, masked_conv2d,
};

/// conv 1→8 (5×5, stride 2) whose weights the gate masks per image → ReLU
/// → dense 10.
struct Net {
    gate: GateModule,
    conv: MaskedConv2d,
    head: candle_nn::Linear,
}

impl Net {
    fn new(vb: VarBuilder<'_>) -> Result<Self, Box<dyn std::error::Error>> {
        let conv = masked_conv2d(
            1,
            8,
            5,
            MaskedConv2dConfig {
                stride: 2,
                ..Default::default()
            },
            vb.pp("conv"),
        )?;
        // The gate of that conv on 16×16 inputs: filters, kernel, stride
        // and padding come from the conv itself.
        let config = GateConfig {
            hidden: [64, 64],
            ..GateConfig::default()
        };
        Ok(Self {
            gate: gate_for(&conv, 16, 16, config, vb.pp("gate"))?,
            conv,
            head: candle_nn::linear(8 * 6 * 6, 2, vb.pp("head"))?,
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        train: bool,
        rng: &mut sgbn_estimators::SeededRng,
    ) -> Result<Tensor, Box<dyn std::error::Error>> {
        // One binary mask per image and weight; `None`: the gate has its
        // own conv weights (2W-SGBN), `Some(w)` would share the main
        // conv's (1W-SGBN).
        let masks = self.gate.masks(x, None, train, rng)?;
        let h = self.conv.forward_masked(x, Some(&masks))?.relu()?;
        Ok(self.head.forward(&h.flatten_from(1)?)?)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::Cpu;
    // Parameters from a seeded generator: the same seed, the same network.
    let store = SeededVarMap::new(0);
    let net = Net::new(store.var_builder(DType::F32, &device))?;
    let vars: Vec<_> = store.vars().into_iter().map(|(_, v)| v).collect();
    let mut opt = candle_nn::AdamW::new(
        vars,
        ParamsAdamW {
            lr: 1e-3,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;

    // A toy task: is the bright half of the image on the left or the right?
    let mut rng = seeded_rng(1);
    let noise = uniform_like(
        &Tensor::zeros((64, 1, 16, 16), DType::F32, &device)?,
        &mut rng,
    )?;
    let left = Tensor::cat(
        &[
            Tensor::ones((32, 1, 16, 8), DType::F32, &device)?,
            Tensor::zeros((32, 1, 16, 8), DType::F32, &device)?,
        ],
        3,
    )?;
    let right = left.flip(&[3])?;
    let x = ((Tensor::cat(&[left, right], 0)? * 0.7)? + (noise * 0.3)?)?;
    let y = Tensor::cat(
        &[
            Tensor::zeros(32, DType::U32, &device)?,
            Tensor::ones(32, DType::U32, &device)?,
        ],
        0,
    )?;

    let mut losses = Vec::new();
    for step in 0..30 {
        let logits = net.forward(&x, true, &mut rng)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        opt.backward_step(&loss)?;
        losses.push(loss.to_scalar::<f32>()?);
        if step % 10 == 0 {
            println!("step {step:>2}: loss {:.4}", losses[step]);
        }
    }
    let last = *losses.last().ok_or("no steps")?;
    println!("step 29: loss {last:.4}");
    assert!(last < losses[0], "the loss did not fall: {losses:?}");
    Ok(())
}
