//! An attack as a user asks for it: a name, a budget and the options of
//! `cargo xtask attack` ([`AttackOptions`]), with sgbn's defaults for what
//! is left out. The one mapping between that request and [`AttackSpec`],
//! in both directions: [`AttackOptions::spec`] builds the spec the command
//! runs, [`AttackSpec::request`] gives back the request of a spec (the
//! audit prints each of its lines as the command that reproduces it), and a
//! test holds the two to each other.

use serde::{Deserialize, Serialize};
use sgbn_attacks::{ApgdLoss, LabelSource, SQUARE_CONFIRM_DRAWS, SuiteVersion};

use crate::{
    AttackSpec, DEFAULT_APGD_STEPS, DEFAULT_PGD_STEPS, EvalError, GradientOptions, Result,
    THESIS_ITERATIVE_STEPS, default_iterative_step, default_pgd_step,
};

/// The attacks a request can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum AttackName {
    /// Fast gradient sign method (eq. 2.26).
    Fgsm,
    /// Basic iterative method (eq. 2.27), projected.
    Bim,
    /// Iterative least-likely class (eq. 2.28), projected.
    Ill,
    /// Projected gradient descent with random start (Madry et al.).
    Pgd,
    /// Square attack: gradient-free, score-based.
    Square,
    /// APGD on the cross-entropy (Croce & Hein 2020).
    ApgdCe,
    /// APGD on the difference-of-logits-ratio loss.
    ApgdDlr,
    /// APGD on the targeted DLR loss, over `targets` classes in turn.
    ApgdT,
    /// AutoAttack's suite (`version`): the per-image worst case.
    Autoattack,
}

impl AttackName {
    /// Its name on the command line (`apgd-ce`).
    pub fn flag(self) -> &'static str {
        match self {
            Self::Fgsm => "fgsm",
            Self::Bim => "bim",
            Self::Ill => "ill",
            Self::Pgd => "pgd",
            Self::Square => "square",
            Self::ApgdCe => "apgd-ce",
            Self::ApgdDlr => "apgd-dlr",
            Self::ApgdT => "apgd-t",
            Self::Autoattack => "autoattack",
        }
    }
}

/// `cargo xtask attack`'s options beyond the attack's name and budget;
/// `None` / the defaults mean sgbn's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AttackOptions {
    /// Iterations of BIM / ILL (default 10, the thesis's), PGD (40) and APGD
    /// (100, AutoAttack's).
    pub steps: Option<usize>,
    /// Step α of BIM / ILL / PGD (default: [`default_iterative_step`],
    /// [`default_pgd_step`]).
    pub step_size: Option<f64>,
    /// Draws of the model's randomness per gradient (EOT), or per Square
    /// query.
    pub eot: usize,
    /// Square's queries per image (default 1,000).
    pub queries: Option<usize>,
    /// BIM / ILL projected onto `[0, 1]` only (the literal eqs. 2.27–2.28).
    pub literal: bool,
    /// APGD's runs from fresh starts.
    pub restarts: usize,
    /// APGD-T's target classes.
    pub targets: usize,
    /// APGD with AutoAttack's rule on a stochastic model.
    pub autoattack_rule: bool,
    /// AutoAttack's suite.
    pub version: SuiteVersion,
    /// Labels, BPDA, fixed masks of the gradient attacks.
    pub gradient: GradientOptions,
}

/// Square's queries per image when none are given.
pub const DEFAULT_SQUARE_QUERIES: usize = 1000;

impl Default for AttackOptions {
    fn default() -> Self {
        Self {
            steps: None,
            step_size: None,
            eot: 1,
            queries: None,
            literal: false,
            restarts: 1,
            targets: 9,
            autoattack_rule: false,
            version: SuiteVersion::Standard,
            gradient: GradientOptions::default(),
        }
    }
}

impl AttackOptions {
    /// The spec of attack `name` at budget `eps` under these options.
    pub fn spec(&self, name: AttackName, eps: f64) -> AttackSpec {
        let options = self.gradient;
        match name {
            AttackName::Fgsm => AttackSpec::Fgsm {
                eps,
                eot: self.eot,
                options,
            },
            AttackName::Bim | AttackName::Ill => {
                let steps = self.steps.unwrap_or(THESIS_ITERATIVE_STEPS);
                let step = self
                    .step_size
                    .unwrap_or_else(|| default_iterative_step(eps, steps));
                AttackSpec::iterative(name == AttackName::Ill, eps, step, steps, options)
                    .with_eot_and_projection(self.eot, self.literal)
            }
            AttackName::Pgd => {
                let steps = self.steps.unwrap_or(DEFAULT_PGD_STEPS);
                AttackSpec::Pgd {
                    eps,
                    step: self
                        .step_size
                        .unwrap_or_else(|| default_pgd_step(eps, steps)),
                    steps,
                    eot: self.eot,
                    options,
                }
            }
            AttackName::Square => AttackSpec::Square {
                eps,
                queries: self.queries.unwrap_or(DEFAULT_SQUARE_QUERIES),
                eot: self.eot,
                confirm: SQUARE_CONFIRM_DRAWS,
            },
            AttackName::ApgdCe | AttackName::ApgdDlr | AttackName::ApgdT => AttackSpec::Apgd {
                eps,
                loss: match name {
                    AttackName::ApgdCe => ApgdLoss::Ce,
                    AttackName::ApgdDlr => ApgdLoss::Dlr,
                    _ => ApgdLoss::TargetedDlr,
                },
                steps: self.steps.unwrap_or(DEFAULT_APGD_STEPS),
                restarts: self.restarts,
                targets: if name == AttackName::ApgdT {
                    self.targets
                } else {
                    0
                },
                eot: self.eot,
                autoattack_rule: self.autoattack_rule,
            },
            AttackName::Autoattack => AttackSpec::AutoAttack {
                eps,
                version: self.version,
            },
        }
    }

    /// Refuses values that mean nothing whatever the attack (`steps` 0,
    /// `queries` 0, `eot` 0, a step outside (0, ε] for some ε), and returns a
    /// warning for each option that none of `names` uses (it would be
    /// ignored without a word). docs/robustness.md.
    pub fn check(&self, names: &[AttackName], eps: &[f64]) -> Result<Vec<String>> {
        use AttackName as A;
        let bad = |m: String| Err(EvalError::InvalidConfig(m));
        if self.steps == Some(0) {
            return bad("--steps must be ≥ 1 (got 0)".into());
        }
        if self.queries == Some(0) {
            return bad("--queries must be ≥ 1 (got 0)".into());
        }
        if self.eot == 0 {
            return bad("--eot must be ≥ 1 (got 0)".into());
        }
        if let Some(step) = self.step_size {
            for &e in eps {
                if !(step.is_finite() && step > 0.0 && step <= e) {
                    return bad(format!(
                        "--step-size must be in (0, ε] for every --eps (got {step} with --eps {e})"
                    ));
                }
            }
        }
        let uses = |kinds: &[AttackName]| names.iter().any(|k| kinds.contains(k));
        let chosen = names.iter().map(|n| n.flag()).collect::<Vec<_>>().join(",");
        let mut warnings = Vec::new();
        let mut not_for = |option: &str, applies: &str| {
            warnings.push(format!(
                "{option} is ignored: it applies to {applies}, and none of --attack {chosen} is one"
            ));
        };
        let apgd = [A::ApgdCe, A::ApgdDlr, A::ApgdT];
        if self.steps.is_some() && !uses(&[A::Bim, A::Ill, A::Pgd, A::ApgdCe, A::ApgdDlr, A::ApgdT])
        {
            not_for("--steps", "bim, ill, pgd and the apgd attacks");
        }
        if self.step_size.is_some() && !uses(&[A::Bim, A::Ill, A::Pgd]) {
            not_for("--step-size", "bim, ill and pgd (APGD adapts its own step)");
        }
        if self.queries.is_some() && !uses(&[A::Square]) {
            not_for(
                "--queries",
                "square (autoattack's standard suite runs 5,000)",
            );
        }
        if self.literal && !uses(&[A::Bim, A::Ill]) {
            not_for("--literal", "bim and ill");
        }
        if (self.restarts != 1 || self.autoattack_rule) && !uses(&apgd) {
            not_for("--restarts / --apgd-autoattack-rule", "the apgd attacks");
        }
        if self.targets != 9 && !uses(&[A::ApgdT]) {
            not_for("--targets", "apgd-t");
        }
        Ok(warnings)
    }

    /// The flags of `cargo xtask attack` that ask for attack `name` at
    /// `eps` under these options (the defaults left out).
    pub fn flags(&self, name: AttackName, eps: f64) -> String {
        let mut c = format!("--attack {} --eps {eps}", name.flag());
        let d = Self::default();
        let mut add = |on: bool, flag: String| {
            if on {
                c.push(' ');
                c.push_str(&flag);
            }
        };
        add(
            self.steps.is_some(),
            format!("--steps {}", self.steps.unwrap_or(0)),
        );
        add(
            self.step_size.is_some(),
            format!("--step-size {}", self.step_size.unwrap_or(0.0)),
        );
        add(self.eot != d.eot, format!("--eot {}", self.eot));
        add(
            self.queries.is_some(),
            format!("--queries {}", self.queries.unwrap_or(0)),
        );
        add(self.literal, "--literal".into());
        add(
            self.restarts != d.restarts,
            format!("--restarts {}", self.restarts),
        );
        add(
            self.targets != d.targets,
            format!("--targets {}", self.targets),
        );
        add(self.autoattack_rule, "--apgd-autoattack-rule".into());
        add(
            self.version != d.version,
            format!(
                "--version {}",
                match self.version {
                    SuiteVersion::Standard => "standard",
                    SuiteVersion::Rand => "rand",
                }
            ),
        );
        let g = self.gradient;
        add(
            g.labels == LabelSource::Predicted,
            "--labels predicted".into(),
        );
        let b = g.bpda;
        let parts: Vec<&str> = [
            (b.dense_unit, "dense-unit"),
            (b.gate.sampling, "gate-sampling"),
            (b.gate.activation, "gate-activation"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, p)| *p)
        .collect();
        add(!parts.is_empty(), format!("--bpda {}", parts.join(",")));
        add(g.fixed_masks, "--fixed-masks".into());
        c
    }
}

impl AttackSpec {
    /// The request (name, budget, options) whose [`AttackOptions::spec`] is
    /// this spec; `None` for a spec the command line cannot ask for (a
    /// Square attack confirmed by another number of draws than
    /// [`SQUARE_CONFIRM_DRAWS`], an untargeted APGD with targets).
    pub fn request(&self) -> Option<(AttackName, f64, AttackOptions)> {
        let mut o = AttackOptions {
            gradient: self.options(),
            ..AttackOptions::default()
        };
        let name = match *self {
            Self::Fgsm { eot, .. } => {
                o.eot = eot;
                AttackName::Fgsm
            }
            Self::Bim {
                step,
                steps,
                eot,
                literal,
                ..
            }
            | Self::Ill {
                step,
                steps,
                eot,
                literal,
                ..
            } => {
                (o.steps, o.step_size, o.eot, o.literal) = (Some(steps), Some(step), eot, literal);
                if matches!(self, Self::Ill { .. }) {
                    AttackName::Ill
                } else {
                    AttackName::Bim
                }
            }
            Self::Pgd {
                step, steps, eot, ..
            } => {
                (o.steps, o.step_size, o.eot) = (Some(steps), Some(step), eot);
                AttackName::Pgd
            }
            Self::Square {
                queries,
                eot,
                confirm,
                ..
            } => {
                if confirm != SQUARE_CONFIRM_DRAWS {
                    return None;
                }
                (o.queries, o.eot) = (Some(queries), eot);
                AttackName::Square
            }
            Self::Apgd {
                loss,
                steps,
                restarts,
                targets,
                eot,
                autoattack_rule,
                ..
            } => {
                (o.steps, o.restarts, o.eot, o.autoattack_rule) =
                    (Some(steps), restarts, eot, autoattack_rule);
                match loss {
                    ApgdLoss::TargetedDlr => {
                        o.targets = targets;
                        AttackName::ApgdT
                    }
                    _ if targets != 0 => return None,
                    ApgdLoss::Ce => AttackName::ApgdCe,
                    ApgdLoss::Dlr => AttackName::ApgdDlr,
                }
            }
            Self::AutoAttack { version, .. } => {
                o.version = version;
                AttackName::Autoattack
            }
        };
        Some((name, self.eps(), o))
    }
}

#[cfg(test)]
mod tests {
    use sgbn_models::Bpda;

    use super::*;

    /// Every name under a spread of options.
    fn requests() -> Vec<(AttackName, f64, AttackOptions)> {
        use AttackName as A;
        let names = [
            A::Fgsm,
            A::Bim,
            A::Ill,
            A::Pgd,
            A::Square,
            A::ApgdCe,
            A::ApgdDlr,
            A::ApgdT,
            A::Autoattack,
        ];
        let variants = [
            AttackOptions::default(),
            AttackOptions {
                steps: Some(7),
                step_size: Some(0.02),
                eot: 5,
                queries: Some(300),
                literal: true,
                restarts: 2,
                targets: 3,
                autoattack_rule: true,
                version: SuiteVersion::Rand,
                gradient: GradientOptions {
                    labels: LabelSource::Predicted,
                    bpda: Bpda::all(),
                    fixed_masks: true,
                },
            },
        ];
        names
            .iter()
            .flat_map(|&n| variants.iter().map(move |o| (n, 0.3, o.clone())))
            .collect()
    }

    #[test]
    fn a_spec_gives_back_a_request_that_builds_the_same_spec() {
        for (name, eps, options) in requests() {
            let spec = options.spec(name, eps);
            let (n, e, o) = spec.request().expect("every request's spec has one");
            assert_eq!((n, e), (name, eps), "{spec:?}");
            assert_eq!(o.spec(n, e), spec, "{spec:?}: {o:?}");
        }
    }

    #[test]
    fn flags_name_every_option_that_is_not_the_default() {
        let o = AttackOptions {
            steps: Some(100),
            step_size: Some(0.0075),
            eot: 10,
            gradient: GradientOptions {
                fixed_masks: true,
                ..GradientOptions::default()
            },
            ..AttackOptions::default()
        };
        assert_eq!(
            o.flags(AttackName::Pgd, 0.3),
            "--attack pgd --eps 0.3 --steps 100 --step-size 0.0075 --eot 10 --fixed-masks"
        );
        assert_eq!(
            AttackOptions::default().flags(AttackName::ApgdCe, 0.1),
            "--attack apgd-ce --eps 0.1"
        );
    }

    #[test]
    fn bad_values_are_refused_and_unused_options_warned_about() {
        let o = AttackOptions {
            steps: Some(0),
            ..AttackOptions::default()
        };
        assert!(o.check(&[AttackName::Pgd], &[0.3]).is_err());
        let o = AttackOptions {
            step_size: Some(0.5),
            ..AttackOptions::default()
        };
        let err = o.check(&[AttackName::Pgd], &[0.3]).expect_err("above ε");
        assert!(err.to_string().contains("--step-size"), "{err}");
        let o = AttackOptions {
            queries: Some(10),
            ..AttackOptions::default()
        };
        let w = o.check(&[AttackName::Fgsm], &[0.3]).expect("valid");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("--queries is ignored"), "{w:?}");
        assert!(
            o.check(&[AttackName::Square], &[0.3])
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn a_spec_the_command_cannot_ask_for_has_no_request() {
        let square = AttackSpec::Square {
            eps: 0.3,
            queries: 100,
            eot: 1,
            confirm: 1,
        };
        assert!(square.request().is_none());
    }
}
