//! The networks of chapter 3 and how they are trained (§3.2.1), shared by
//! every chapter-3 experiment: the 1-conv CNN with dropout, L1 or L2, and
//! the binarized MLP / 1CNN / 2CNN with STE, REINFORCE or DBN units.
//!
//! Training (§3.2.1): Adam, batch 50 (the thesis does not say; chapter 4's
//! batch), Glorot initial values, no early stopping; learning rate 1e-4 and
//! 20 epochs for the CNN, 1e-2 / 1e-3 / 1e-3 and 20 / 30 / 30 epochs for
//! the MLPs / 1CNNs / 2CNNs; the STE's slope `min(5, 1 + 0.04·epoch)`.
//! Dropout acts after the dense layer in training only; L1 / L2 add
//! `λ·Σ|w|` / `λ·Σw²` over every layer's weights to the mean loss (eq. 2.9).

use std::fmt::Write;

use serde::Deserialize;
use sgbn_defenses::AdamConfig;
use sgbn_defenses::TrainConfig;
use sgbn_models::ModelSpec;

use sgbn_models::Bpda;

use crate::{
    AccuracyJob, AttackSpec, EvalJob, GradientOptions, PlanContext, ReportContext, Result, Split,
    TrainJob, fmt_summary, summary,
};

/// Bins of every chapter-3 confidence histogram (0–100 % in steps of 10).
pub const CONFIDENCE_BINS: usize = 10;

/// The file of the thesis's chapter-3 numbers under `data/thesis/`.
pub const CH3_FILE: &str = "ch3.json";

/// A regularizer of the 1-conv CNN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regularizer {
    /// None ("w/o DO", "w/o any regularizations").
    None,
    /// Dropout with this probability after the dense layer.
    Dropout(f64),
    /// L1 weight decay with this λ.
    L1(f64),
    /// L2 weight decay with this λ.
    L2(f64),
}

/// One chapter-3 network with its training recipe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ch3Net {
    /// The 1-conv CNN of §3.2.1 with a regularizer.
    Cnn(Regularizer),
    /// A binarized network of Tables 3.1–3.3 by its sgbn name
    /// (`mlp-ste`, `1cnn-reinforce`, …).
    Binarized(&'static str),
}

impl Ch3Net {
    /// Its id in the cache and the report.
    pub fn id(&self) -> String {
        match self {
            Ch3Net::Cnn(Regularizer::None) => "ch3-cnn".into(),
            Ch3Net::Cnn(Regularizer::Dropout(p)) => format!("ch3-cnn-dropout-{p}"),
            Ch3Net::Cnn(Regularizer::L1(l)) => format!("ch3-cnn-l1-{l:e}"),
            Ch3Net::Cnn(Regularizer::L2(l)) => format!("ch3-cnn-l2-{l:e}"),
            Ch3Net::Binarized(name) => (*name).into(),
        }
    }

    /// Its label in tables and legends, as the thesis's figures name it.
    pub fn label(&self) -> String {
        match self {
            Ch3Net::Cnn(Regularizer::None) => "w/o reg.".into(),
            Ch3Net::Cnn(Regularizer::Dropout(p)) => format!("p = {p}"),
            Ch3Net::Cnn(Regularizer::L1(l)) | Ch3Net::Cnn(Regularizer::L2(l)) => {
                format!("λ = {l:e}")
            }
            Ch3Net::Binarized(name) => name.to_ascii_uppercase(),
        }
    }

    fn base(&self) -> &'static str {
        match self {
            Ch3Net::Cnn(_) => "ch3-cnn",
            Ch3Net::Binarized(name) => name,
        }
    }

    /// The thesis's learning rate and epochs (§3.2.1).
    pub fn recipe(&self) -> (f64, usize) {
        let base = self.base();
        if base == "ch3-cnn" {
            (1e-4, 20)
        } else if base.starts_with("mlp-") {
            (1e-2, 20)
        } else {
            (1e-3, 30)
        }
    }

    /// Run `run` of it under the context's profile.
    pub fn train_job(&self, ctx: &PlanContext<'_>, run: usize) -> Result<TrainJob> {
        let mut spec = ModelSpec::named(self.base())?;
        let (mut l1, mut l2) = (0.0, 0.0);
        match self {
            Ch3Net::Cnn(Regularizer::Dropout(p)) => spec.dense_dropout = *p,
            Ch3Net::Cnn(Regularizer::L1(l)) => l1 = *l,
            Ch3Net::Cnn(Regularizer::L2(l)) => l2 = *l,
            Ch3Net::Cnn(Regularizer::None) | Ch3Net::Binarized(_) => {}
        }
        let (lr, epochs) = self.recipe();
        let config = TrainConfig {
            epochs: ctx.profile.ch3_epochs.unwrap_or(epochs),
            batch_size: ctx.profile.batch_size,
            adam: AdamConfig {
                lr,
                ..AdamConfig::default()
            },
            early_stopping: None,
            l1,
            l2,
            seed: run as u64,
            ..TrainConfig::default()
        };
        Ok(TrainJob::custom(
            &self.id(),
            spec,
            config,
            (ctx.profile.ch3_train_size, 0),
            run,
            ctx.data,
        ))
    }

    /// Its white-box FGSM evaluation at `eps` (with the confidence
    /// histogram, so that the curves and the histograms share their jobs).
    pub fn fgsm(&self, ctx: &PlanContext<'_>, run: usize, eps: f64) -> Result<EvalJob> {
        Ok(EvalJob::new(
            &self.train_job(ctx, run)?,
            AttackSpec::fgsm(eps),
            ctx.profile.ch3_test,
            1,
        )
        .with_confidence_histogram(CONFIDENCE_BINS))
    }

    /// Whether it has a binary dense unit (the binarized networks).
    pub fn is_binarized(&self) -> bool {
        matches!(self, Ch3Net::Binarized(_))
    }

    /// Beyond the thesis: FGSM at `eps` with BPDA of the binary dense unit
    /// (its backward replaced by the identity; Athalye et al. 2018), which
    /// reaches the input where the unit's own gradient does not (REINFORCE).
    pub fn fgsm_bpda(&self, ctx: &PlanContext<'_>, run: usize, eps: f64) -> Result<EvalJob> {
        let attack = AttackSpec::Fgsm {
            eps,
            eot: 1,
            options: GradientOptions::bpda(Bpda {
                dense_unit: true,
                ..Bpda::default()
            }),
        };
        Ok(EvalJob::new(
            &self.train_job(ctx, run)?,
            attack,
            ctx.profile.ch3_test,
            1,
        ))
    }

    /// Its clean accuracy on its training images or the test images.
    pub fn accuracy(&self, ctx: &PlanContext<'_>, run: usize, split: Split) -> Result<AccuracyJob> {
        let size = match split {
            Split::Train => ctx.profile.ch3_train_eval,
            Split::Test => Some(ctx.profile.ch3_test),
        };
        Ok(AccuracyJob::new(&self.train_job(ctx, run)?, split, size))
    }
}

/// The binarized MLPs of Table 3.1, DBN / STE / REINFORCE.
pub const MLP_NETS: [Ch3Net; 3] = binarized(MLP_NAMES);
/// The binarized 1CNNs of Table 3.2.
pub const ONE_CNN_NETS: [Ch3Net; 3] = binarized(ONE_CNN_NAMES);
/// The binarized 2CNNs of Table 3.3.
pub const TWO_CNN_NETS: [Ch3Net; 3] = binarized(TWO_CNN_NAMES);
/// Their sgbn names, for [`crate::ExperimentInfo::models`].
pub const MLP_NAMES: [&str; 3] = ["mlp-dbn", "mlp-ste", "mlp-reinforce"];
/// The 1CNNs' names.
pub const ONE_CNN_NAMES: [&str; 3] = ["1cnn-dbn", "1cnn-ste", "1cnn-reinforce"];
/// The 2CNNs' names.
pub const TWO_CNN_NAMES: [&str; 3] = ["2cnn-dbn", "2cnn-ste", "2cnn-reinforce"];

const fn binarized(names: [&'static str; 3]) -> [Ch3Net; 3] {
    [
        Ch3Net::Binarized(names[0]),
        Ch3Net::Binarized(names[1]),
        Ch3Net::Binarized(names[2]),
    ]
}

/// The thesis's stated chapter-3 numbers (`data/thesis/ch3.json`).
#[derive(Debug, Deserialize)]
pub struct Ch3Thesis {
    /// Where in the thesis.
    pub source: String,
    /// Tables 3.4–3.6: per network, its training and testing accuracy.
    pub tables: Vec<ThesisAccuracy>,
    /// Stated single numbers: FGSM accuracy of a network at an ε.
    pub fgsm: Vec<ThesisPoint>,
}

/// One column of Tables 3.4–3.6.
#[derive(Debug, Deserialize)]
pub struct ThesisAccuracy {
    /// The network's sgbn name.
    pub model: String,
    /// Its table.
    pub table: String,
    /// Training accuracy, mean and std (%).
    pub train: (f64, f64),
    /// Testing accuracy, mean and std (%).
    pub test: (f64, f64),
}

/// A stated FGSM accuracy.
#[derive(Debug, Deserialize)]
pub struct ThesisPoint {
    /// The network's sgbn name.
    pub model: String,
    /// The budget.
    pub eps: f64,
    /// Mean and std (%).
    pub accuracy: (f64, f64),
    /// Where it is stated.
    pub source: String,
}

/// Per run, the value of a job's result (percent), where finished.
pub fn per_run(
    ctx: &ReportContext<'_>,
    mut value: impl FnMut(usize) -> Result<Option<f64>>,
) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for run in 0..ctx.profile.ch3_runs {
        if let Some(v) = value(run)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// The clean accuracies (%) of a network on a split, one per finished run.
pub fn accuracies(ctx: &ReportContext<'_>, net: &Ch3Net, split: Split) -> Result<Vec<f64>> {
    let plan = ctx.plan();
    per_run(ctx, |run| {
        Ok(ctx
            .results
            .get(&net.accuracy(&plan, run, split)?)
            .map(|r| 100.0 * r.accuracy))
    })
}

/// The FGSM-with-BPDA accuracies (%) of a binarized network at `eps`, one
/// per finished run.
pub fn fgsm_bpda_accuracies(ctx: &ReportContext<'_>, net: &Ch3Net, eps: f64) -> Result<Vec<f64>> {
    let plan = ctx.plan();
    per_run(ctx, |run| {
        Ok(ctx
            .results
            .get(&net.fgsm_bpda(&plan, run, eps)?)
            .map(|r| 100.0 * r.headline()))
    })
}

/// The largest ℓ∞ distortion of a network's FGSM examples at `eps` over
/// the finished runs (0: FGSM moved no pixel).
pub fn fgsm_max_linf(ctx: &ReportContext<'_>, net: &Ch3Net, eps: f64) -> Result<Option<f64>> {
    let plan = ctx.plan();
    let mut max: Option<f64> = None;
    for run in 0..ctx.profile.ch3_runs {
        if let Some(c) = ctx
            .results
            .get(&net.fgsm(&plan, run, eps)?)
            .and_then(|r| r.cost)
        {
            max = Some(max.map_or(c.max_linf, |m: f64| m.max(c.max_linf)));
        }
    }
    Ok(max)
}

/// The FGSM accuracies (%) of a network at `eps`, one per finished run.
pub fn fgsm_accuracies(ctx: &ReportContext<'_>, net: &Ch3Net, eps: f64) -> Result<Vec<f64>> {
    let plan = ctx.plan();
    per_run(ctx, |run| {
        Ok(ctx
            .results
            .get(&net.fgsm(&plan, run, eps)?)
            .map(|r| 100.0 * r.headline()))
    })
}

/// `mean ± std (n)` of the values, or `–`.
pub fn cell(values: &[f64]) -> String {
    summary(values).map_or("–".into(), |s| fmt_summary(&s))
}

/// A Markdown table of clean training and test accuracy (%) and their gap
/// per network; also the JSON of it.
pub fn generalization_table(
    ctx: &ReportContext<'_>,
    nets: &[Ch3Net],
    md: &mut String,
) -> Result<serde_json::Value> {
    let _ = writeln!(
        md,
        "| network | training accuracy | test accuracy | train − test |\n|---|---|---|---|"
    );
    let mut json = Vec::new();
    for net in nets {
        let train = accuracies(ctx, net, Split::Train)?;
        let test = accuracies(ctx, net, Split::Test)?;
        let gaps: Vec<f64> = train.iter().zip(&test).map(|(a, b)| a - b).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            net.label(),
            cell(&train),
            cell(&test),
            cell(&gaps)
        );
        json.push(serde_json::json!({
            "model": net.id(), "train": train, "test": test, "gap": gaps
        }));
    }
    Ok(serde_json::Value::Array(json))
}
