//! The ONNX evaluator against PyTorch's own numbers on the files PyTorch
//! exported (tests/data/, written by python/make_onnx_fixtures.py): logits
//! and input gradients of two deterministic models, the output distribution
//! of a stochastic one, and the seeded and fixed randomness.

use candle_core::{Device, Tensor, Var};
use sgbn_attacks::Victim;
use sgbn_estimators::seeded_rng;
use sgbn_onnx::OnnxModel;

type R = Result<(), Box<dyn std::error::Error>>;

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_f64().expect("a number") as f32)
        .collect()
}

fn max_abs(a: &[f32]) -> f32 {
    a.iter().fold(0f32, |m, v| m.max(v.abs()))
}

/// Logits and the gradient of `sum(logits · c)` with respect to the
/// images, within float32 rounding of PyTorch's.
fn matches_pytorch(name: &str) -> R {
    let model = OnnxModel::read(data(&format!("{name}.onnx")), &Device::Cpu)?;
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data(&format!("{name}.json")))?)?;
    let shape: Vec<usize> = want["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_u64().expect("dim") as usize)
        .collect();
    let x = Var::from_tensor(&Tensor::from_vec(
        floats(&want["images"]),
        shape.as_slice(),
        &Device::Cpu,
    )?)?;
    let c = Tensor::from_vec(floats(&want["c"]), (shape[0], 10), &Device::Cpu)?;
    assert!(!model.is_stochastic());
    assert_eq!(model.num_classes(), 10);
    let logits = model.logits(x.as_tensor(), &mut seeded_rng(0))?;
    let got = logits.flatten_all()?.to_vec1::<f32>()?;
    let expected = floats(&want["logits"]);
    let scale = max_abs(&expected).max(1.0);
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-5 * scale,
            "{name}: logit {i}: ours {g}, PyTorch {e}"
        );
    }
    let grads = logits.mul(&c)?.sum_all()?.backward()?;
    let grad = grads
        .get(&x)
        .expect("a gradient reaches the images")
        .flatten_all()?
        .to_vec1::<f32>()?;
    let expected = floats(&want["grad"]);
    let scale = max_abs(&expected);
    assert!(
        scale > 0.0,
        "{name}: PyTorch's gradient is zero, the test would prove nothing"
    );
    for (i, (g, e)) in grad.iter().zip(&expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-4 * scale,
            "{name}: gradient {i}: ours {g}, PyTorch {e}"
        );
    }
    Ok(())
}

#[test]
fn a_cnn_gives_pytorchs_logits_and_input_gradients() -> R {
    matches_pytorch("cnn")
}

#[test]
fn the_other_operators_give_pytorchs_logits_and_input_gradients() -> R {
    matches_pytorch("zoo")
}

/// The stochastic model's mean softmax output over many passes, against
/// PyTorch's over its own 4,000 passes: each class's difference within
/// 4.5 standard errors of the difference of two means (a false alarm
/// about once in 10⁵ per class).
#[test]
fn a_stochastic_model_draws_its_randomness_as_pytorch_does() -> R {
    let model = OnnxModel::read(data("stochastic.onnx"), &Device::Cpu)?;
    assert!(model.is_stochastic());
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("stochastic.json"))?)?;
    let n_theirs = want["passes"].as_u64().expect("passes") as f64;
    let n = 4000usize;
    let x = Tensor::from_vec(floats(&want["image"]), (1, 1, 12, 12), &Device::Cpu)?
        .repeat((n, 1, 1, 1))?;
    let logits = model.logits(&x, &mut seeded_rng(7))?;
    let p = logits.broadcast_sub(&logits.max_keepdim(1)?)?.exp()?;
    let p = p.broadcast_div(&p.sum_keepdim(1)?)?.to_vec2::<f32>()?;
    let (mean_t, std_t) = (floats(&want["mean"]), floats(&want["std"]));
    for k in 0..10 {
        let col: Vec<f64> = p.iter().map(|r| f64::from(r[k])).collect();
        let mean = col.iter().sum::<f64>() / n as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64 + f64::from(std_t[k]).powi(2) / n_theirs).sqrt();
        let d = mean - f64::from(mean_t[k]);
        assert!(
            d.abs() <= 4.5 * se,
            "class {k}: our mean {mean:.4}, PyTorch's {:.4}, difference {d:.4} > 4.5 · {se:.5}",
            mean_t[k]
        );
        // And the randomness is there: the spread over passes is PyTorch's.
        let ratio = var.sqrt() / f64::from(std_t[k]).max(1e-9);
        assert!((0.8..1.25).contains(&ratio), "class {k}: std ratio {ratio}");
    }
    Ok(())
}

#[test]
fn the_same_seed_gives_the_same_logits_and_fixed_draws_make_the_model_deterministic() -> R {
    let model = OnnxModel::read(data("stochastic.onnx"), &Device::Cpu)?;
    let x = Tensor::full(0.5f32, (5, 1, 12, 12), &Device::Cpu)?;
    let run = |seed| -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        Ok(model
            .logits(&x, &mut seeded_rng(seed))?
            .flatten_all()?
            .to_vec1::<f32>()?)
    };
    assert_eq!(run(3)?, run(3)?);
    assert_ne!(run(3)?, run(4)?);
    let fixed = model
        .fixed_at(&x, &mut seeded_rng(3))?
        .expect("random operators can be fixed");
    let a = fixed
        .logits(&x, &mut seeded_rng(10))?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let b = fixed
        .logits(&x, &mut seeded_rng(11))?
        .flatten_all()?
        .to_vec1::<f32>()?;
    assert_eq!(a, b, "fixed draws ignore the generator");
    // The draws fixed at seed 3 are the ones a seed-3 pass makes.
    assert_eq!(a, run(3)?);
    // A batch of another size is refused, naming the reason.
    let other = Tensor::full(0.5f32, (4, 1, 12, 12), &Device::Cpu)?;
    let e = fixed
        .logits(&other, &mut seeded_rng(0))
        .expect_err("another batch size")
        .to_string();
    assert!(e.contains("same size"), "{e}");
    // A deterministic model has nothing to fix.
    let cnn = OnnxModel::read(data("cnn.onnx"), &Device::Cpu)?;
    assert!(cnn.fixed_at(&x, &mut seeded_rng(0))?.is_none());
    Ok(())
}
