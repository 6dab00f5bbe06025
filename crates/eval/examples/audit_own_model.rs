//! The gradient-masking audit of a candle model of one's own: an MLP of
//! `candle-nn`, trained briefly on MNIST, then `sgbn_eval::audit` with a
//! small budget: every attack, the checklist, the verdict, and `AUDIT.md`'s
//! Markdown. The audit itself is the 15 lines after "The audit".
//!
//! `cargo run --release -p sgbn-eval --example audit_own_model`

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Optimizer, VarBuilder};
use sgbn_attacks::victim_fn;
use sgbn_estimators::SeededRng;
use sgbn_eval::{AuditBudget, AuditData, AuditTarget, audit};
use sgbn_layers::SeededVarMap;

/// 784 → 100 → ReLU → 10.
struct Mlp(candle_nn::Linear, candle_nn::Linear);

impl Mlp {
    fn new(vb: VarBuilder<'_>) -> candle_core::Result<Self> {
        Ok(Self(
            candle_nn::linear(784, 100, vb.pp("hidden"))?,
            candle_nn::linear(100, 10, vb.pp("out"))?,
        ))
    }

    fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.1
            .forward(&self.0.forward(&x.flatten_from(1)?)?.relu()?)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = sgbn_data::available_mnist_dir() else {
        eprintln!("skipped: no MNIST here (run inside the sgbn repository or set SGBN_DATA_DIR)");
        return Ok(());
    };
    let mnist = sgbn_data::load_mnist(&dir)?;
    // Seeded parameters (candle cannot seed its CPU generator).
    let varmap = SeededVarMap::new(0);
    let mlp = Mlp::new(varmap.var_builder(DType::F32, &Device::Cpu))?;
    let vars = varmap.vars().into_iter().map(|(_, v)| v).collect();
    let mut opt = candle_nn::AdamW::new_lr(vars, 1e-3)?;
    for b in 0..100 {
        let idx: Vec<usize> = (b * 50..(b + 1) * 50).collect();
        let (x, y) = mnist.train.batch(&idx)?;
        opt.backward_step(&candle_nn::loss::cross_entropy(&mlp.logits(&x)?, &y)?)?;
    }

    // The audit: the model as a victim (a closure), a budget, one call.
    let victim = victim_fn(10, |x: &Tensor, _: &mut SeededRng| mlp.logits(x));
    let budget = AuditBudget {
        images: 200,
        pgd_steps: 20,
        apgd_steps: 20,
        square_queries: 300,
        surrogate_epochs: 1,
        surrogate_train_size: Some(5000),
        ..AuditBudget::default()
    };
    let data = AuditData {
        test: &mnist.test,
        train: Some(&mnist.train),
    };
    let report = audit(AuditTarget::Victim(&victim), data, &budget)?;
    println!("{}", report.verdict);
    for check in &report.checks {
        println!("{:<32} {:?}: {}", check.id, check.status, check.evidence);
    }
    Ok(())
}
