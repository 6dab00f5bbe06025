//! FGSM (eq. 2.26), BIM (eq. 2.27), ILL (eq. 2.28) and PGD (Madry et al.
//! 2018): sign-gradient steps on the input, projected after each step.

use candle_core::Tensor;
use rand::Rng;
use sgbn_estimators::SeededRng;
use sgbn_models::PixelBox;

use crate::{
    Attack, AttackError, Batch, Goal, LabelSource, Perturbed, Result, Victim, batch::judge,
    example_rng, objective_gradient, own_prediction_gradient,
};

/// Where the iterate is sent back after each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Projection {
    /// Onto the ε-ball around the clean image (ℓ∞) and the pixel range
    /// `[0, 1]`: CleverHans semantics, which the thesis's code used.
    EpsBallAndPixelRange,
    /// Onto `[0, 1]` only: the literal eqs. 2.27–2.28 ("the pixel values are
    /// clipped after each step"), whose total change can reach `steps · step`.
    PixelRangeOnly,
}

/// Settings of a sign-gradient attack.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GradientAttackConfig {
    /// ℓ∞ budget ε ≥ 0.
    pub eps: f64,
    /// Step α of each iteration (ε for FGSM).
    pub step_size: f64,
    /// Number of iterations T (1 for FGSM).
    pub steps: usize,
    /// Start from a uniform random point of the ε-ball (PGD).
    pub random_start: bool,
    /// Projection after each step.
    pub projection: Projection,
    /// Untargeted, or towards which class.
    pub goal: Goal,
    /// Draws of the model's randomness averaged per gradient (EOT); 1 is the
    /// plain gradient.
    pub eot_samples: usize,
    /// Seed of the attack's own random choices (random start, random
    /// targets), per example via [`example_rng`].
    pub seed: u64,
    /// The labels of an untargeted attack's loss.
    #[serde(default)]
    pub labels: LabelSource,
    /// Craft against the victim's randomness drawn once on the clean batch
    /// ([`Victim::fixed_at`]: SGBN's masks); the judging pass draws afresh.
    #[serde(default)]
    pub fixed_randomness: bool,
}

impl GradientAttackConfig {
    /// Checks every value and names the bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AttackError::InvalidConfig(m));
        if !(self.eps.is_finite() && (0.0..=1.0).contains(&self.eps)) {
            return bad(format!("ε = {} must be in [0, 1]", self.eps));
        }
        if !(self.step_size.is_finite() && self.step_size >= 0.0) {
            return bad(format!("step size {} must be ≥ 0", self.step_size));
        }
        if self.step_size == 0.0 && self.eps > 0.0 {
            return bad("step size 0 with ε > 0 would never move".into());
        }
        if self.step_size > self.eps * (1.0 + 1e-9) {
            return bad(format!(
                "step size {} is larger than ε = {}",
                self.step_size, self.eps
            ));
        }
        if self.steps == 0 {
            return bad("steps must be ≥ 1".into());
        }
        if self.eot_samples == 0 {
            return bad("EOT samples must be ≥ 1".into());
        }
        Ok(())
    }
}

/// A sign-gradient attack: FGSM, BIM, ILL or PGD, by its constructor.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientAttack {
    kind: &'static str,
    config: GradientAttackConfig,
}

impl GradientAttack {
    /// An attack from a checked configuration, reported under `kind`.
    pub fn new(kind: &'static str, config: GradientAttackConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { kind, config })
    }

    /// FGSM (eq. 2.26): one step of size ε along the sign of ∇ₓ loss at the
    /// true label, then clipped to `[0, 1]`.
    pub fn fgsm(eps: f64) -> Result<Self> {
        Self::new(
            "fgsm",
            GradientAttackConfig {
                eps,
                step_size: eps,
                steps: 1,
                random_start: false,
                projection: Projection::EpsBallAndPixelRange,
                goal: Goal::Untargeted,
                eot_samples: 1,
                seed: 0,
                labels: LabelSource::True,
                fixed_randomness: false,
            },
        )
    }

    /// BIM (eq. 2.27, Kurakin et al.): `steps` FGSM steps of size `step`,
    /// projected onto the ε-ball and `[0, 1]` after each (thesis: step 0.01,
    /// T = 10).
    pub fn bim(eps: f64, step: f64, steps: usize) -> Result<Self> {
        let mut c = Self::fgsm(eps)?.config;
        c.step_size = step;
        c.steps = steps;
        Self::new("bim", c)
    }

    /// ILL (eq. 2.28): BIM descending the loss of the least-likely class of
    /// the clean input.
    pub fn ill(eps: f64, step: f64, steps: usize) -> Result<Self> {
        let mut c = Self::bim(eps, step, steps)?.config;
        c.goal = Goal::LeastLikely;
        Self::new("ill", c)
    }

    /// PGD (Madry et al. 2018): BIM from a uniform random start in the
    /// ε-ball.
    pub fn pgd(eps: f64, step: f64, steps: usize) -> Result<Self> {
        let mut c = Self::bim(eps, step, steps)?.config;
        c.random_start = true;
        Self::new("pgd", c)
    }

    /// The same attack with the gradient averaged over `k` draws of the
    /// model's randomness (EOT).
    pub fn with_eot(mut self, k: usize) -> Result<Self> {
        self.config.eot_samples = k;
        self.config.validate()?;
        Ok(self)
    }

    /// The same attack with another goal (targeted forms).
    pub fn with_goal(mut self, goal: Goal) -> Self {
        self.config.goal = goal;
        self
    }

    /// The same attack with another seed for its own random choices.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// The same attack with the loss at `labels` (untargeted attacks).
    pub fn with_labels(mut self, labels: LabelSource) -> Self {
        self.config.labels = labels;
        self
    }

    /// The same attack crafting against the victim's randomness held fixed
    /// at the clean batch ([`Victim::fixed_at`]).
    pub fn with_fixed_randomness(mut self) -> Self {
        self.config.fixed_randomness = true;
        self
    }

    /// The same attack without the ε-ball projection (the literal
    /// eqs. 2.27–2.28; the thesis's formula also uses step ε).
    pub fn literal(mut self) -> Self {
        self.config.projection = Projection::PixelRangeOnly;
        self
    }

    /// Its configuration.
    pub fn config(&self) -> &GradientAttackConfig {
        &self.config
    }
}

impl Attack for GradientAttack {
    fn name(&self) -> String {
        let c = &self.config;
        let mut s = format!("{}(eps={}", self.kind, crate::attack::short_number(c.eps));
        if c.steps > 1 || self.kind != "fgsm" {
            s += &format!(
                ", step={}, steps={}",
                crate::attack::short_number(c.step_size),
                c.steps
            );
        }
        if c.eot_samples > 1 {
            s += &format!(", eot={}", c.eot_samples);
        }
        if c.projection == Projection::PixelRangeOnly {
            s += ", literal";
        }
        if c.labels == LabelSource::Predicted && !c.goal.is_targeted() {
            s += ", predicted labels";
        }
        if c.fixed_randomness {
            s += ", fixed masks";
        }
        s + ")"
    }

    fn eps(&self) -> f64 {
        self.config.eps
    }

    fn perturb(
        &self,
        victim: &dyn Victim,
        batch: &Batch<'_>,
        rng: &mut SeededRng,
    ) -> Result<Perturbed> {
        let c = &self.config;
        let labels = batch.label_vec()?;
        let b = labels.len();
        let x0 = batch.images.detach();
        if b == 0 {
            return Ok(Perturbed {
                adversarial: x0,
                targets: c.goal.is_targeted().then(Vec::new),
                predictions: Vec::new(),
                success: Vec::new(),
                forward_passes: Vec::new(),
            });
        }
        let targets = c.goal.targets(victim, batch, c.seed, rng)?;
        let mut passes = if c.goal == Goal::LeastLikely { 1 } else { 0 };
        let x = if c.eps == 0.0 {
            x0.clone()
        } else {
            let bounds = match c.projection {
                Projection::EpsBallAndPixelRange => PixelBox::linf_ball(&x0, c.eps)?,
                Projection::PixelRangeOnly => PixelBox::pixel_range(&x0)?,
            };
            let aim = match &targets {
                Some(t) => Tensor::from_slice(t, b, x0.device())?,
                None => batch.labels.clone(),
            };
            let mut x = if c.random_start {
                let noise = uniform_ball(&x0, c.eps, c.seed, batch)?;
                bounds.project(&(&x0 + noise)?)?
            } else {
                x0.clone()
            };
            // The victim the gradients come from: with fixed randomness, its
            // masks drawn once on the clean batch.
            let fixed = if c.fixed_randomness {
                victim.fixed_at(&x0, rng)?
            } else {
                None
            };
            let crafter: &dyn Victim = fixed.as_deref().unwrap_or(victim);
            let own_prediction = targets.is_none() && c.labels == LabelSource::Predicted;
            for _ in 0..c.steps {
                let g = if own_prediction {
                    own_prediction_gradient(crafter, &x, c.eot_samples, rng)?
                } else {
                    objective_gradient(crafter, &x, &aim, targets.is_some(), c.eot_samples, rng)?
                };
                x = bounds.sign_step(&x, &g, c.step_size)?;
                passes += c.eot_samples;
            }
            x
        };
        let (predictions, success) = judge(victim, &x, &labels, targets.as_deref(), rng)?;
        Ok(Perturbed {
            adversarial: x,
            targets,
            predictions,
            success,
            forward_passes: vec![passes; b],
        })
    }
}

/// Uniform noise in `[−ε, ε]` shaped like `x`, each example's from its own
/// generator.
fn uniform_ball(x: &Tensor, eps: f64, seed: u64, batch: &Batch<'_>) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let per = dims[1..].iter().product::<usize>();
    let mut v = Vec::with_capacity(dims[0] * per);
    for i in 0..dims[0] {
        let mut r = example_rng(seed, batch.index(i));
        v.extend((0..per).map(|_| r.random_range(-eps..=eps) as f32));
    }
    Ok(Tensor::from_vec(v, dims, x.device())?.to_dtype(x.dtype())?)
}
