//! [`AttackSpec`]: an attack and its settings as data: serializable (part of
//! every cached result's key), buildable, with the thesis's defaults in one
//! place. `cargo xtask attack` and every experiment build attacks from it.

use serde::{Deserialize, Serialize};
use sgbn_attacks::{
    Apgd, ApgdConfig, ApgdLoss, Attack, AttackSuite, GradientAttack, LabelSource, SquareAttack,
    SquareAttackConfig, SuiteVersion,
};
use sgbn_models::Bpda;

use crate::Result;

/// The thesis's BIM / ILL step α (§4.4: 0.01).
pub const THESIS_ITERATIVE_STEP: f64 = 0.01;
/// The thesis's BIM / ILL iterations T (§4.4: 10).
pub const THESIS_ITERATIVE_STEPS: usize = 10;
/// PGD iterations when none are given (Madry et al.'s MNIST setting).
pub const DEFAULT_PGD_STEPS: usize = 40;
/// APGD iterations when none are given (AutoAttack's).
pub const DEFAULT_APGD_STEPS: usize = 100;

/// How a gradient attack differentiates, beyond its budget and steps (the
/// protocol study of docs/reproduction.md). Left at their defaults, these
/// fields are not serialized.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GradientOptions {
    /// The labels of the loss: true, or the model's own prediction
    /// (CleverHans v1, the thesis's attack code).
    #[serde(default, skip_serializing_if = "is_default")]
    pub labels: LabelSource,
    /// Parts of the model differentiated as the identity (BPDA).
    #[serde(default, skip_serializing_if = "is_default")]
    pub bpda: Bpda,
    /// Craft against the gate masks drawn on the clean input; the
    /// evaluation draws fresh masks on the adversarial input.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fixed_masks: bool,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl GradientOptions {
    /// CleverHans v1's FGSM: the loss at the model's own prediction.
    pub fn cleverhans_v1() -> Self {
        Self {
            labels: LabelSource::Predicted,
            ..Self::default()
        }
    }

    /// BPDA of `bpda`'s parts, true labels.
    pub fn bpda(bpda: Bpda) -> Self {
        Self {
            bpda,
            ..Self::default()
        }
    }

    /// Masks fixed at the clean input, true labels.
    pub fn fixed_masks() -> Self {
        Self {
            fixed_masks: true,
            ..Self::default()
        }
    }

    fn apply(&self, a: GradientAttack) -> GradientAttack {
        let a = a.with_labels(self.labels);
        if self.fixed_masks {
            a.with_fixed_randomness()
        } else {
            a
        }
    }
}

/// An attack as data. Fields left at their defaults (EOT 1, projected, true
/// labels, no BPDA, fresh masks) are not serialized, so keys written before
/// a field existed stay valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "attack", rename_all = "kebab-case")]
pub enum AttackSpec {
    /// FGSM (eq. 2.26): one step of ε along sign(∇ₓ loss).
    Fgsm {
        /// ℓ∞ budget.
        eps: f64,
        /// Draws of the model's randomness per gradient (EOT).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        eot: usize,
        /// Labels, BPDA, fixed masks.
        #[serde(flatten)]
        options: GradientOptions,
    },
    /// BIM (eq. 2.27): `steps` sign steps of size `step`, projected.
    Bim {
        /// ℓ∞ budget.
        eps: f64,
        /// Step α (≤ ε).
        step: f64,
        /// Iterations T.
        steps: usize,
        /// Draws of the model's randomness per gradient (EOT).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        eot: usize,
        /// Project onto `[0, 1]` only (the literal equation), not the ε-ball.
        #[serde(default, skip_serializing_if = "is_false")]
        literal: bool,
        /// Labels, BPDA, fixed masks.
        #[serde(flatten)]
        options: GradientOptions,
    },
    /// ILL (eq. 2.28): BIM towards the least-likely class.
    Ill {
        /// ℓ∞ budget.
        eps: f64,
        /// Step α (≤ ε).
        step: f64,
        /// Iterations T.
        steps: usize,
        /// Draws of the model's randomness per gradient (EOT).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        eot: usize,
        /// Project onto `[0, 1]` only (the literal equation), not the ε-ball.
        #[serde(default, skip_serializing_if = "is_false")]
        literal: bool,
        /// Labels, BPDA, fixed masks.
        #[serde(flatten)]
        options: GradientOptions,
    },
    /// PGD with a random start (Madry et al. 2018), with EOT.
    Pgd {
        /// ℓ∞ budget.
        eps: f64,
        /// Step α (≤ ε).
        step: f64,
        /// Iterations.
        steps: usize,
        /// Draws of the model's randomness per gradient (EOT).
        eot: usize,
        /// Labels, BPDA, fixed masks.
        #[serde(flatten)]
        options: GradientOptions,
    },
    /// The Square attack (gradient-free, score-based).
    Square {
        /// ℓ∞ budget.
        eps: f64,
        /// Queries per image.
        queries: usize,
        /// Draws of the model's randomness per query.
        eot: usize,
        /// Fresh passes that confirm a success on a stochastic model
        /// ([`SquareAttackConfig::confirm_draws`]); absent from keys written
        /// before it existed, which meant 1 (one lucky draw ended the search).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        confirm: usize,
    },
    /// APGD (Croce & Hein 2020) on the cross-entropy, the DLR loss or the
    /// targeted DLR loss, with EOT.
    Apgd {
        /// ℓ∞ budget.
        eps: f64,
        /// The objective.
        loss: ApgdLoss,
        /// Iterations per run (AutoAttack: 100).
        steps: usize,
        /// Runs from fresh random starts (AutoAttack: 1).
        restarts: usize,
        /// Target classes of APGD-T (AutoAttack: 9; 0 for the untargeted
        /// losses).
        targets: usize,
        /// Draws of the model's randomness per gradient (EOT).
        eot: usize,
        /// AutoAttack's rule on a stochastic model instead of ours
        /// ([`ApgdConfig::autoattack_rule`]); for cross-checks.
        #[serde(default, skip_serializing_if = "is_false")]
        autoattack_rule: bool,
    },
    /// AutoAttack's `standard` (without FAB-T) or `rand` suite with its
    /// defaults ([`AttackSuite::autoattack`]): the per-image worst case.
    AutoAttack {
        /// ℓ∞ budget.
        eps: f64,
        /// Which suite.
        version: SuiteVersion,
    },
}

fn one() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// The default BIM / ILL step for budget `eps` and `steps` iterations: the
/// thesis's 0.01 while `steps · 0.01` reaches ε, else `2.5 · ε / steps`
/// (Madry et al.'s rule), never above ε.
pub fn default_iterative_step(eps: f64, steps: usize) -> f64 {
    if THESIS_ITERATIVE_STEP * steps as f64 >= eps - 1e-12 {
        THESIS_ITERATIVE_STEP.min(eps)
    } else {
        default_pgd_step(eps, steps)
    }
}

/// The default PGD step, `2.5 · ε / steps` (Madry et al.), never above ε.
pub fn default_pgd_step(eps: f64, steps: usize) -> f64 {
    (2.5 * eps / steps.max(1) as f64).min(eps)
}

impl AttackSpec {
    /// FGSM at `eps` (no EOT, true labels).
    pub fn fgsm(eps: f64) -> Self {
        Self::Fgsm {
            eps,
            eot: 1,
            options: GradientOptions::default(),
        }
    }

    /// BIM (or, with `least_likely`, ILL) with EOT 1, projected, and the
    /// given options.
    pub fn iterative(
        least_likely: bool,
        eps: f64,
        step: f64,
        steps: usize,
        options: GradientOptions,
    ) -> Self {
        let (eot, literal) = (1, false);
        if least_likely {
            Self::Ill {
                eps,
                step,
                steps,
                eot,
                literal,
                options,
            }
        } else {
            Self::Bim {
                eps,
                step,
                steps,
                eot,
                literal,
                options,
            }
        }
    }

    /// The same attack with `eot` draws per gradient and, for BIM / ILL,
    /// the literal projection when `literal` (other attacks ignore it).
    pub fn with_eot_and_projection(mut self, k: usize, literal_projection: bool) -> Self {
        match &mut self {
            Self::Fgsm { eot, .. }
            | Self::Pgd { eot, .. }
            | Self::Square { eot, .. }
            | Self::Apgd { eot, .. } => *eot = k,
            Self::AutoAttack { .. } => {}
            Self::Bim { eot, literal, .. } | Self::Ill { eot, literal, .. } => {
                *eot = k;
                *literal = literal_projection;
            }
        }
        self
    }

    /// The gradient options (the defaults for Square).
    pub fn options(&self) -> GradientOptions {
        match *self {
            Self::Fgsm { options, .. }
            | Self::Bim { options, .. }
            | Self::Ill { options, .. }
            | Self::Pgd { options, .. } => options,
            Self::Square { .. } | Self::Apgd { .. } | Self::AutoAttack { .. } => {
                GradientOptions::default()
            }
        }
    }

    /// The parts of the model the attack differentiates as the identity.
    pub fn bpda(&self) -> Bpda {
        self.options().bpda
    }

    /// The ℓ∞ budget.
    pub fn eps(&self) -> f64 {
        match *self {
            Self::Fgsm { eps, .. }
            | Self::Bim { eps, .. }
            | Self::Ill { eps, .. }
            | Self::Pgd { eps, .. }
            | Self::Square { eps, .. }
            | Self::Apgd { eps, .. }
            | Self::AutoAttack { eps, .. } => eps,
        }
    }

    /// Whether the attack follows gradients (every attack but Square; an
    /// AutoAttack suite counts as gradient-based: its first attacks are).
    pub fn is_gradient_based(&self) -> bool {
        !matches!(self, Self::Square { .. })
    }

    /// The attack, with `seed` for its own random choices (PGD's start,
    /// ILL's ties, Square's squares).
    ///
    /// # Errors
    /// A value the attack refuses (ε outside `[0, 1]`, a step above ε, zero
    /// steps, queries or EOT draws), named.
    pub fn build(&self, seed: u64) -> Result<Box<dyn Attack>> {
        let iterative = |a: GradientAttack, eot: usize, literal: bool| -> Result<GradientAttack> {
            let a = if eot == 1 { a } else { a.with_eot(eot)? };
            Ok(if literal { a.literal() } else { a })
        };
        let options = self.options();
        Ok(match *self {
            Self::Fgsm { eps, eot, .. } => {
                let a = GradientAttack::fgsm(eps)?;
                Box::new(options.apply(if eot == 1 { a } else { a.with_eot(eot)? }))
            }
            Self::Bim {
                eps,
                step,
                steps,
                eot,
                literal,
                ..
            } => Box::new(options.apply(iterative(
                GradientAttack::bim(eps, step, steps)?,
                eot,
                literal,
            )?)),
            Self::Ill {
                eps,
                step,
                steps,
                eot,
                literal,
                ..
            } => Box::new(options.apply(
                iterative(GradientAttack::ill(eps, step, steps)?, eot, literal)?.with_seed(seed),
            )),
            Self::Pgd {
                eps,
                step,
                steps,
                eot,
                ..
            } => Box::new(
                options.apply(
                    GradientAttack::pgd(eps, step, steps)?
                        .with_eot(eot)?
                        .with_seed(seed),
                ),
            ),
            Self::Square {
                eps,
                queries,
                eot,
                confirm,
            } => Box::new(SquareAttack::new(SquareAttackConfig {
                queries,
                eot_samples: eot,
                confirm_draws: confirm,
                seed,
                ..SquareAttackConfig::new(eps)
            })?),
            Self::Apgd {
                eps,
                loss,
                steps,
                restarts,
                targets,
                eot,
                autoattack_rule,
            } => Box::new(Apgd::new(ApgdConfig {
                loss,
                steps,
                restarts,
                target_classes: targets,
                eot_samples: eot,
                seed,
                autoattack_rule,
                ..ApgdConfig::new(eps)
            })?),
            Self::AutoAttack { eps, version } => {
                Box::new(AttackSuite::autoattack(version, eps, seed)?)
            }
        })
    }

    /// Forward-pass equivalents per image (a gradient counts 3), for
    /// progress estimates.
    pub fn passes(&self) -> f64 {
        match *self {
            Self::Fgsm { eot, .. } => 3.0 * eot as f64,
            Self::Bim { steps, eot, .. } | Self::Ill { steps, eot, .. } => {
                3.0 * (steps * eot) as f64 + 1.0
            }
            Self::Pgd { steps, eot, .. } => 3.0 * (steps * eot) as f64 + 1.0,
            Self::Square { queries, eot, .. } => (queries * eot) as f64 * 0.3 + 1.0,
            Self::Apgd {
                loss,
                steps,
                restarts,
                targets,
                eot,
                ..
            } => {
                let runs = restarts
                    * if loss == ApgdLoss::TargetedDlr {
                        targets
                    } else {
                        1
                    };
                3.0 * ((steps + 1) * eot * runs) as f64 + eot as f64 + 1.0
            }
            Self::AutoAttack { version, .. } => match version {
                SuiteVersion::Rand => {
                    2.0 * (3.0 * (101 * sgbn_attacks::RAND_EOT_SAMPLES) as f64) + 21.0
                }
                SuiteVersion::Standard => {
                    3.0 * 101.0 * 10.0 + sgbn_attacks::STANDARD_SQUARE_QUERIES as f64 * 0.3 + 31.0
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_not_serialized_so_older_keys_stay_valid() {
        // The form every result cached before EOT / literal existed has.
        let json = serde_json::to_string(&AttackSpec::fgsm(0.3)).expect("json");
        assert_eq!(json, r#"{"attack":"fgsm","eps":0.3}"#);
        let bim = AttackSpec::Bim {
            eps: 0.1,
            step: 0.01,
            steps: 10,
            eot: 1,
            literal: false,
            options: GradientOptions::default(),
        };
        assert_eq!(
            serde_json::to_string(&bim).expect("json"),
            r#"{"attack":"bim","eps":0.1,"step":0.01,"steps":10}"#
        );
        let eot = AttackSpec::Fgsm {
            eps: 0.3,
            eot: 4,
            options: GradientOptions::cleverhans_v1(),
        };
        let text = serde_json::to_string(&eot).expect("json");
        assert!(text.contains(r#""eot":4"#));
        assert!(text.contains(r#""labels":"predicted""#), "{text}");
        assert_eq!(
            serde_json::from_str::<AttackSpec>(&text).expect("back"),
            eot
        );
        let old: AttackSpec = serde_json::from_str(r#"{"attack":"fgsm","eps":0.3}"#).expect("old");
        assert_eq!(old, AttackSpec::fgsm(0.3));
    }

    #[test]
    fn apgd_and_autoattack_specs_round_trip_and_build() {
        let apgd = AttackSpec::Apgd {
            eps: 0.3,
            loss: ApgdLoss::Dlr,
            steps: 100,
            restarts: 1,
            targets: 0,
            eot: 20,
            autoattack_rule: false,
        };
        let text = serde_json::to_string(&apgd).expect("json");
        assert_eq!(
            text,
            r#"{"attack":"apgd","eps":0.3,"loss":"dlr","steps":100,"restarts":1,"targets":0,"eot":20}"#
        );
        assert_eq!(
            serde_json::from_str::<AttackSpec>(&text).expect("back"),
            apgd
        );
        assert_eq!(
            apgd.build(0).expect("apgd").name(),
            "apgd-dlr(eps=0.3, steps=100, eot=20)"
        );
        let aa = AttackSpec::AutoAttack {
            eps: 0.3,
            version: SuiteVersion::Rand,
        };
        let text = serde_json::to_string(&aa).expect("json");
        assert_eq!(
            text,
            r#"{"attack":"auto-attack","eps":0.3,"version":"rand"}"#
        );
        let name = aa.build(0).expect("suite").name();
        assert!(
            name.contains("apgd-ce") && name.contains("apgd-dlr") && name.contains("eot=20"),
            "{name}"
        );
        let zero_steps = AttackSpec::Apgd {
            eps: 0.3,
            loss: ApgdLoss::Ce,
            steps: 0,
            restarts: 1,
            targets: 0,
            eot: 1,
            autoattack_rule: false,
        };
        assert!(
            zero_steps
                .build(0)
                .err()
                .expect("0 steps")
                .to_string()
                .contains("step")
        );
    }

    #[test]
    fn default_steps_follow_the_thesis_and_never_exceed_eps() {
        assert_eq!(default_iterative_step(0.1, 10), 0.01);
        assert_eq!(default_iterative_step(0.005, 10), 0.005);
        // T · 0.01 < ε: Madry's rule, capped at ε.
        assert!((default_iterative_step(0.3, 10) - 0.075).abs() < 1e-12);
        assert_eq!(default_iterative_step(0.3, 1), 0.3);
        assert!((default_pgd_step(0.3, 40) - 0.01875).abs() < 1e-12);
        assert_eq!(default_pgd_step(0.3, 2), 0.3);
    }

    #[test]
    fn build_names_the_attack_and_refuses_bad_values() {
        let a = AttackSpec::fgsm(0.3).build(0).expect("fgsm");
        assert_eq!(a.name(), "fgsm(eps=0.3)");
        let too_far = AttackSpec::Bim {
            eps: 0.1,
            step: 0.2,
            steps: 10,
            eot: 1,
            literal: false,
            options: GradientOptions::default(),
        };
        let e = too_far.build(0).err().expect("step above ε");
        assert!(e.to_string().contains("0.2"), "{e}");
        assert!(AttackSpec::fgsm(1.5).build(0).is_err());
        let pgd = AttackSpec::Pgd {
            eps: 0.3,
            step: 0.01,
            steps: 40,
            eot: 0,
            options: GradientOptions::default(),
        };
        assert!(pgd.build(0).is_err(), "EOT 0 is refused");
        assert!(
            !AttackSpec::Square {
                eps: 0.3,
                queries: 10,
                eot: 1,
                confirm: 1,
            }
            .is_gradient_based()
        );
    }
}
