//! The protocol options of the gradient attacks: labels from the model's
//! own prediction (CleverHans v1) and randomness held fixed while crafting.

use std::cell::Cell;

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use sgbn_attacks::{
    Attack, EvalClassifier, GradientAttack, LabelSource, Result, Victim, attack_dataset,
};
use sgbn_estimators::{SeededRng, uniform_like};
use sgbn_models::{ConvNet, ModelSpec};

/// Two classes on 4-pixel images: logits `(s, −s)`, `s = x·(1, 1, −1, −1)`.
/// Counts its forward passes.
struct Margin {
    passes: Cell<usize>,
    frozen_passes: Cell<usize>,
}

impl Margin {
    fn new() -> Self {
        Self {
            passes: Cell::new(0),
            frozen_passes: Cell::new(0),
        }
    }
}

fn margin_logits(x: &Tensor) -> Result<Tensor> {
    let w = Tensor::new(&[[1f32], [1.0], [-1.0], [-1.0]], x.device())?;
    let s = x.flatten_from(1)?.matmul(&w)?;
    Ok(Tensor::cat(&[&s, &s.neg()?], 1)?)
}

impl Victim for Margin {
    fn logits(&self, x: &Tensor, _rng: &mut SeededRng) -> Result<Tensor> {
        self.passes.set(self.passes.get() + 1);
        margin_logits(x)
    }

    fn is_stochastic(&self) -> bool {
        false
    }

    fn num_classes(&self) -> usize {
        2
    }

    fn fixed_at(&self, _x: &Tensor, _rng: &mut SeededRng) -> Result<Option<Box<dyn Victim + '_>>> {
        Ok(Some(Box::new(Frozen(&self.frozen_passes))))
    }
}

/// The "fixed" view: the same function, its own pass counter.
struct Frozen<'a>(&'a Cell<usize>);

impl Victim for Frozen<'_> {
    fn logits(&self, x: &Tensor, _rng: &mut SeededRng) -> Result<Tensor> {
        self.0.set(self.0.get() + 1);
        margin_logits(x)
    }

    fn is_stochastic(&self) -> bool {
        false
    }

    fn num_classes(&self) -> usize {
        2
    }
}

/// Two images labelled 0: one classified correctly (s = +0.2), one wrongly
/// (s = −0.2).
fn two_images() -> (Tensor, Tensor) {
    let x = Tensor::new(
        &[0.55f32, 0.55, 0.45, 0.45, 0.45, 0.45, 0.55, 0.55],
        &Device::Cpu,
    )
    .and_then(|t| t.reshape((2, 1, 2, 2)))
    .expect("x");
    (x, Tensor::new(&[0u32, 0], &Device::Cpu).expect("y"))
}

fn predictions(victim: &dyn Victim, attack: &dyn Attack) -> Vec<u32> {
    let (x, y) = two_images();
    attack_dataset(attack, victim, &x, &y, 2, &mut SeededRng::seed_from_u64(0))
        .expect("attack")
        .predictions
}

#[test]
fn own_prediction_labels_push_a_misclassified_example_back_to_its_class() {
    // FGSM moves s by 4ε = 0.4: both margins (0.2) are crossed.
    let true_labels = GradientAttack::fgsm(0.1).expect("fgsm");
    let own = true_labels.clone().with_labels(LabelSource::Predicted);
    assert_eq!(own.name(), "fgsm(eps=0.1, predicted labels)");
    let m = Margin::new();
    // True labels: the correct example is broken, the wrong one stays wrong.
    assert_eq!(predictions(&m, &true_labels), [1, 1]);
    // Own prediction: the correct one is broken alike (its prediction is its
    // label), the wrong one is pushed away from class 1, back to class 0.
    assert_eq!(predictions(&m, &own), [1, 0]);
}

#[test]
fn fixed_randomness_crafts_on_the_fixed_view_and_judges_on_the_victim() {
    let bim = GradientAttack::bim(0.1, 0.03, 3).expect("bim");
    let m = Margin::new();
    predictions(&m, &bim);
    assert_eq!(
        (m.passes.get(), m.frozen_passes.get()),
        (4, 0),
        "3 steps + judge"
    );
    let fixed = bim.with_fixed_randomness();
    assert!(fixed.name().ends_with(", fixed masks)"), "{}", fixed.name());
    let m = Margin::new();
    predictions(&m, &fixed);
    assert_eq!(
        (m.passes.get(), m.frozen_passes.get()),
        (1, 3),
        "judge only; 3 steps"
    );
}

fn images(b: usize) -> Tensor {
    let zeros = Tensor::zeros((b, 1, 28, 28), DType::F32, &Device::Cpu).expect("zeros");
    uniform_like(&zeros, &mut SeededRng::seed_from_u64(5)).expect("x")
}

#[test]
fn an_sgbn_victim_fixes_its_masks_and_an_ungated_one_has_nothing_to_fix() {
    let x = images(4);
    let y = Tensor::new(&[1u32, 2, 3, 4], &Device::Cpu).expect("y");
    let run = |name: &str, attack: &GradientAttack| {
        let model =
            ConvNet::new(&ModelSpec::named(name).expect("spec"), 0, &Device::Cpu).expect("model");
        let victim = EvalClassifier::new(&model, 1.0);
        let out = attack_dataset(attack, &victim, &x, &y, 4, &mut SeededRng::seed_from_u64(1))
            .expect("attack");
        (
            victim
                .fixed_at(&x, &mut SeededRng::seed_from_u64(0))
                .expect("fixed")
                .is_some(),
            out,
        )
    };
    let plain = GradientAttack::fgsm(0.2).expect("fgsm");
    let fixed = plain.clone().with_fixed_randomness();
    // CNN: nothing to fix, so the attack is the plain one, bit for bit.
    let (has, a) = run("cnn", &plain);
    let (_, b) = run("cnn", &fixed);
    assert!(!has);
    assert_eq!(
        a.adversarial
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("a"),
        b.adversarial
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("b")
    );
    // SGBN-ReLU (stochastic gates only): masks are fixed, and the examples
    // differ from the plain attack's (no gradient through the gates).
    let (has, a) = run("sgbn-relu", &plain);
    let (_, b) = run("sgbn-relu", &fixed);
    assert!(has);
    let diff = (&a.adversarial - &b.adversarial)
        .and_then(|d| d.abs())
        .and_then(|d| d.sum_all())
        .and_then(|d| d.to_scalar::<f32>())
        .expect("diff");
    assert!(diff > 0.0);
    // Every example stays within ε.
    let linf = (&b.adversarial - &x)
        .and_then(|d| d.abs())
        .and_then(|d| d.max_all())
        .and_then(|d| d.to_scalar::<f32>())
        .expect("linf");
    assert!(linf <= 0.2 + 1e-6);
}
