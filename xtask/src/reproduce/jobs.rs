//! The units of work of `cargo xtask reproduce`, each keyed by a hash of its
//! whole configuration and cached under `results/<profile>/cache/`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::Device;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_attacks::{
    Attack, EvalClassifier, GradientAttack, SquareAttack, SquareAttackConfig, attack_dataset,
    predict_dataset,
};
use sgbn_data::Dataset;
use sgbn_defenses::{EarlyStopping, Quiet, TrainConfig, train, trained_slope};
use sgbn_estimators::SeededRng;
use sgbn_metrics::{GradientStats, RepeatedAccuracy};
use sgbn_models::{Checkpoint, ConvNet, ModelSpec, write_atomic};
use sha2::{Digest, Sha256};

use super::profile::Profile;

/// Bump when a change of code changes results: every cached result then
/// becomes stale and is recomputed.
pub const RESULTS_VERSION: &str = "sgbn-results-1";

/// A stable short hash of a serializable key.
pub fn key_hash<T: Serialize>(key: &T) -> anyhow::Result<String> {
    let json = serde_json::to_vec(key)?;
    let digest = Sha256::digest(&json);
    Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// What identifies a trained model.
#[derive(Debug, Clone, Serialize)]
pub struct TrainJob {
    pub version: &'static str,
    pub model: String,
    pub spec: ModelSpec,
    pub config: TrainConfig,
    pub train_size: Option<usize>,
    pub validation_size: usize,
    pub data_sha256: Vec<String>,
    pub run: usize,
}

impl TrainJob {
    pub fn new(
        model: &str,
        run: usize,
        profile: &Profile,
        data: &[String],
    ) -> anyhow::Result<Self> {
        let mut spec = ModelSpec::named(model)?;
        if let Some(adv) = spec.adversarial_training.as_mut() {
            adv.steps = profile.pgd_train_steps;
            adv.last_epochs = profile.pgd_train_epochs;
        }
        let config = TrainConfig {
            epochs: profile.epochs,
            batch_size: profile.batch_size,
            early_stopping: (profile.validation_size > 0).then_some(EarlyStopping {
                patience: profile.patience,
            }),
            seed: run as u64,
            ..TrainConfig::default()
        };
        Ok(Self {
            version: RESULTS_VERSION,
            model: model.into(),
            spec,
            config,
            train_size: profile.train_size,
            validation_size: profile.validation_size,
            data_sha256: data.to_vec(),
            run,
        })
    }

    pub fn dir(&self, cache: &Path) -> anyhow::Result<PathBuf> {
        Ok(cache.join("models").join(format!(
            "{}-run{}-{}",
            self.model,
            self.run,
            key_hash(self)?
        )))
    }

    /// Training cost in GFLOP, for progress estimates: a training step per
    /// image and epoch, plus, in the epochs with PGD, its steps (a forward
    /// and an input-gradient pass each, 2 × forward) and the training step
    /// on the adversarial batch.
    pub fn cost(&self, train_images: usize) -> f64 {
        let images = train_images as f64;
        let step = self.spec.training_step_flops(1) as f64;
        let mut flops = step * images * self.config.epochs as f64;
        if let Some(adv) = &self.spec.adversarial_training {
            let epochs = adv.last_epochs.min(self.config.epochs) as f64;
            let forward = self.spec.forward_flops().total() as f64;
            flops += epochs * images * (2.0 * forward * adv.steps as f64 + step);
        }
        flops / 1e9
    }
}

/// The outcome of a training run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainedModel {
    pub model: String,
    pub run: usize,
    pub slope: f64,
    pub epochs: usize,
    pub stopped_early: bool,
    pub seconds: f64,
}

/// Trains (or resumes) `job`; returns the cached result when it is done.
pub fn train_model(
    job: &TrainJob,
    cache: &Path,
    mnist_train: &Dataset,
) -> anyhow::Result<TrainedModel> {
    let dir = job.dir(cache)?;
    let done = dir.join("done.json");
    if let Some(result) = cached::<TrainedModel>(&done) {
        return Ok(result);
    }
    if done.exists() {
        // Written atomically, so only damage from outside gets here: say so
        // and resume from the last checkpoint instead of failing.
        tracing::warn!(path = %done.display(), "unreadable done.json: resuming the training run");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let start = std::time::Instant::now();
    let data = match job.train_size {
        Some(n) => mnist_train.first(n)?,
        None => mnist_train.clone(),
    };
    let (data, validation) = if job.validation_size > 0 {
        let (t, v) = data.split_validation(job.validation_size, job.run as u64)?;
        (t, Some(v))
    } else {
        (data, None)
    };
    let model = ConvNet::new(&job.spec, job.run as u64, &crate::compute_device()?)?;
    let report = train(
        &model,
        &data,
        validation.as_ref(),
        &job.config,
        Some(&dir.join("checkpoint.safetensors")),
        &mut Quiet,
    )
    .with_context(|| format!("training {} run {}", job.model, job.run))?;
    let out = TrainedModel {
        model: job.model.clone(),
        run: job.run,
        slope: report.final_slope,
        epochs: report.epochs.len(),
        stopped_early: report.stopped_early,
        seconds: start.elapsed().as_secs_f64(),
    };
    write_atomic(&done, serde_json::to_string_pretty(&out)?.as_bytes())?;
    Ok(out)
}

/// Loads a trained model and its slope.
pub fn load_model(job: &TrainJob, cache: &Path) -> anyhow::Result<(ConvNet, f64)> {
    let path = job.dir(cache)?.join("checkpoint.safetensors");
    let ck = Checkpoint::read(&path, &crate::compute_device()?)?;
    let model = ck.build_frozen(&crate::compute_device()?)?;
    Ok((model, trained_slope(&ck).unwrap_or(1.0)))
}

/// An attack as configured by the registry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "attack", rename_all = "kebab-case")]
pub enum AttackSpec {
    Fgsm {
        eps: f64,
    },
    Bim {
        eps: f64,
        step: f64,
        steps: usize,
    },
    Ill {
        eps: f64,
        step: f64,
        steps: usize,
    },
    Pgd {
        eps: f64,
        step: f64,
        steps: usize,
        eot: usize,
    },
    Square {
        eps: f64,
        queries: usize,
        eot: usize,
    },
}

impl AttackSpec {
    pub fn build(&self, seed: u64) -> anyhow::Result<Box<dyn Attack>> {
        Ok(match *self {
            Self::Fgsm { eps } => Box::new(GradientAttack::fgsm(eps)?),
            Self::Bim { eps, step, steps } => {
                Box::new(GradientAttack::bim(eps, step.min(eps), steps)?)
            }
            Self::Ill { eps, step, steps } => {
                Box::new(GradientAttack::ill(eps, step.min(eps), steps)?.with_seed(seed))
            }
            Self::Pgd {
                eps,
                step,
                steps,
                eot,
            } => Box::new(
                GradientAttack::pgd(eps, step.min(eps), steps)?
                    .with_eot(eot)?
                    .with_seed(seed),
            ),
            Self::Square { eps, queries, eot } => {
                Box::new(SquareAttack::new(SquareAttackConfig {
                    eps,
                    queries,
                    eot_samples: eot,
                    seed,
                    ..SquareAttackConfig::default()
                })?)
            }
        })
    }

    /// Forward-pass equivalents per image, for progress estimates.
    pub fn passes(&self) -> f64 {
        match *self {
            Self::Fgsm { .. } => 3.0,
            Self::Bim { steps, .. } | Self::Ill { steps, .. } => 3.0 * steps as f64 + 1.0,
            Self::Pgd { steps, eot, .. } => 3.0 * (steps * eot) as f64 + 1.0,
            Self::Square { queries, eot, .. } => (queries * eot) as f64 * 0.3 + 1.0,
        }
    }
}

/// A white-box evaluation of one trained model.
#[derive(Debug, Clone, Serialize)]
pub struct EvalJob {
    pub version: &'static str,
    pub model: TrainJob,
    pub attack: AttackSpec,
    pub test_size: usize,
    /// Passes over the adversarial images whose accuracy is averaged.
    pub repeats: usize,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalResult {
    /// Accuracy of the judging pass right after the attack.
    pub accuracy: f64,
    pub total: usize,
    /// Accuracy over `repeats` more passes (when > 1).
    pub repeated: Option<RepeatedAccuracy>,
    pub seconds: f64,
}

/// Writes `result` to `path` atomically (creating its folder) and returns it.
fn store<T: Serialize>(path: &Path, result: T) -> anyhow::Result<T> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_atomic(path, serde_json::to_string_pretty(&result)?.as_bytes())?;
    Ok(result)
}

fn cached<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

impl EvalJob {
    pub fn path(&self, cache: &Path) -> anyhow::Result<PathBuf> {
        Ok(cache.join("evals").join(format!(
            "{}-run{}-{}.json",
            self.model.model,
            self.model.run,
            key_hash(self)?
        )))
    }

    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * self.test_size as f64
            * (self.attack.passes() + self.repeats as f64)
            / 1e9
    }

    pub fn load(&self, cache: &Path) -> Option<EvalResult> {
        cached(&self.path(cache).ok()?)
    }

    pub fn run(&self, cache: &Path, test: &Dataset) -> anyhow::Result<EvalResult> {
        if let Some(r) = self.load(cache) {
            return Ok(r);
        }
        let start = std::time::Instant::now();
        let (model, slope) = load_model(&self.model, cache)?;
        let victim = EvalClassifier::new(&model, slope);
        let test = test
            .first(self.test_size.min(test.len()))?
            .to_device(&crate::compute_device()?)?;
        let seed = self.model.run as u64;
        let attack = self.attack.build(seed)?;
        let mut rng = SeededRng::seed_from_u64(0x5eed ^ seed);
        rng.set_stream(u64::from_str_radix(&key_hash(self)?, 16)?);
        let out = attack_dataset(
            attack.as_ref(),
            &victim,
            test.images(),
            test.labels(),
            100,
            &mut rng,
            &mut |_, _| {},
        )?;
        let labels: Vec<u32> = test.labels().to_vec1()?;
        let repeated = if self.repeats > 1 {
            Some(RepeatedAccuracy::measure(
                &victim,
                &out.adversarial,
                test.labels(),
                self.repeats,
                100,
                &mut rng,
            )?)
        } else {
            None
        };
        let result = EvalResult {
            accuracy: out.correct(&labels) as f64 / labels.len().max(1) as f64,
            total: labels.len(),
            repeated,
            seconds: start.elapsed().as_secs_f64(),
        };
        store(&self.path(cache)?, result)
    }

    /// The accuracy this evaluation reports: mean over repeated passes when
    /// there were any, else the judging pass.
    pub fn headline(result: &EvalResult) -> f64 {
        result
            .repeated
            .as_ref()
            .map_or(result.accuracy, |r| r.summary.mean)
    }
}

/// Clean accuracy over repeated passes and input-gradient statistics of one
/// trained model (for the adaptive experiment's sanity flags).
#[derive(Debug, Clone, Serialize)]
pub struct CleanJob {
    pub version: &'static str,
    pub model: TrainJob,
    pub test_size: usize,
    pub repeats: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CleanResult {
    pub repeated: RepeatedAccuracy,
    pub zero_gradient_examples: f64,
    pub non_finite_gradients: u64,
    pub seconds: f64,
}

impl CleanJob {
    pub fn path(&self, cache: &Path) -> anyhow::Result<PathBuf> {
        Ok(cache.join("clean").join(format!(
            "{}-run{}-{}.json",
            self.model.model,
            self.model.run,
            key_hash(self)?
        )))
    }

    pub fn cost(&self) -> f64 {
        self.model.spec.forward_flops().total() as f64
            * self.test_size as f64
            * (self.repeats as f64 + 3.0)
            / 1e9
    }

    pub fn load(&self, cache: &Path) -> Option<CleanResult> {
        cached(&self.path(cache).ok()?)
    }

    pub fn run(&self, cache: &Path, test: &Dataset) -> anyhow::Result<CleanResult> {
        if let Some(r) = self.load(cache) {
            return Ok(r);
        }
        let start = std::time::Instant::now();
        let (model, slope) = load_model(&self.model, cache)?;
        let victim = EvalClassifier::new(&model, slope);
        let test = test
            .first(self.test_size.min(test.len()))?
            .to_device(&crate::compute_device()?)?;
        let mut rng = SeededRng::seed_from_u64(0xc1ea ^ self.model.run as u64);
        let repeated = RepeatedAccuracy::measure(
            &victim,
            test.images(),
            test.labels(),
            self.repeats.max(2),
            100,
            &mut rng,
        )?;
        let grads =
            GradientStats::measure(&victim, test.images(), test.labels(), 1, 100, &mut rng)?;
        let result = CleanResult {
            repeated,
            zero_gradient_examples: grads.zero_examples as f64 / grads.examples.max(1) as f64,
            non_finite_gradients: grads.non_finite,
            seconds: start.elapsed().as_secs_f64(),
        };
        store(&self.path(cache)?, result)
    }
}

/// FGSM examples crafted on one source, evaluated on several targets.
#[derive(Debug, Clone, Serialize)]
pub struct TransferJob {
    pub version: &'static str,
    pub source: TrainJob,
    pub targets: Vec<TrainJob>,
    pub eps: f64,
    pub test_size: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferResult {
    /// Target model name → accuracy on the source's examples.
    pub accuracy: Vec<(String, f64)>,
    pub seconds: f64,
}

impl TransferJob {
    pub fn path(&self, cache: &Path) -> anyhow::Result<PathBuf> {
        Ok(cache.join("transfer").join(format!(
            "{}-run{}-{}.json",
            self.source.model,
            self.source.run,
            key_hash(self)?
        )))
    }

    pub fn cost(&self) -> f64 {
        let f = |j: &TrainJob| j.spec.forward_flops().total() as f64;
        (3.0 * f(&self.source) + self.targets.iter().map(f).sum::<f64>()) * self.test_size as f64
            / 1e9
    }

    pub fn load(&self, cache: &Path) -> Option<TransferResult> {
        cached(&self.path(cache).ok()?)
    }

    pub fn run(&self, cache: &Path, test: &Dataset) -> anyhow::Result<TransferResult> {
        if let Some(r) = self.load(cache) {
            return Ok(r);
        }
        let start = std::time::Instant::now();
        let device = crate::compute_device()?;
        let test = test
            .first(self.test_size.min(test.len()))?
            .to_device(&device)?;
        let labels: Vec<u32> = test.labels().to_vec1()?;
        let (source, slope) = load_model(&self.source, cache)?;
        let mut rng = SeededRng::seed_from_u64(0x7a5f ^ self.source.run as u64);
        let attack = GradientAttack::fgsm(self.eps)?;
        let crafted = attack_dataset(
            &attack,
            &EvalClassifier::new(&source, slope),
            test.images(),
            test.labels(),
            100,
            &mut rng,
            &mut |_, _| {},
        )?;
        drop(source);
        let mut accuracy = Vec::new();
        for target in &self.targets {
            let (model, slope) = load_model(target, cache)?;
            let pred = predict_dataset(
                &EvalClassifier::new(&model, slope),
                &crafted.adversarial,
                100,
                &mut rng,
            )?;
            let correct = pred.iter().zip(&labels).filter(|(p, y)| p == y).count();
            accuracy.push((
                target.model.clone(),
                correct as f64 / labels.len().max(1) as f64,
            ));
        }
        let result = TransferResult {
            accuracy,
            seconds: start.elapsed().as_secs_f64(),
        };
        store(&self.path(cache)?, result)
    }
}

/// The CPU the run happened on, for the manifest.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let device = if matches!(crate::compute_device(), Ok(Device::Cpu)) {
        "CPU"
    } else {
        "CUDA"
    };
    format!("{cpu}, {threads} threads, models on {device}")
}
