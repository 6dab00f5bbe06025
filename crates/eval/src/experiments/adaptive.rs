//! `adaptive` (beyond the thesis): does the headline models' robustness
//! survive attacks built to get past gradient masking? FGSM, PGD with EOT on
//! the stochastic models (Athalye et al. 2018), and the gradient-free Square
//! attack (Andriushchenko et al. 2020), each at the profile's ε, with
//! accuracy over repeated passes and the sanity flags of `sgbn-metrics`.

use std::fmt::Write;

use sgbn_metrics::{AttackAccuracy, SanityEvidence, SanityFlags};

use crate::{
    AttackSpec, CleanJob, EvalJob, Experiment, ExperimentInfo, GradientOptions, Jobs, PlanContext,
    ReportContext, Result, Section, TrainJob, available, eps_eq, summary, worst_case,
};

/// The experiment on the MNIST models.
pub static ADAPTIVE: Adaptive = Adaptive {
    info: ExperimentInfo {
        id: "adaptive",
        title: "Adaptive evaluation (beyond the thesis): PGD with EOT, Square, repeated passes",
        reference: "Athalye et al. 2018; Croce & Hein 2020; Andriushchenko et al. 2020",
        models: &["sgbn", "sgbn-dt", "bnn-pgd", "sap", "cnn-bin", "cnn"],
        default_set: true,
    },
};

/// The same on the CIFAR-10 models of `fig4.5` (their profile's runs and
/// test images, at most the adaptive evaluation's).
pub static ADAPTIVE_CIFAR10: Adaptive = Adaptive {
    info: ExperimentInfo {
        id: "adaptive-cifar10",
        title: "Adaptive evaluation on CIFAR-10 (beyond the thesis): PGD with EOT, Square, repeated passes",
        reference: "Athalye et al. 2018; Croce & Hein 2020; Andriushchenko et al. 2020",
        models: &[
            "cifar10-sgbn",
            "cifar10-bnn-pgd",
            "cifar10-sap",
            "cifar10-cnn-bin",
            "cifar10-cnn",
        ],
        default_set: false,
    },
};

/// The adaptive evaluation of some models.
#[derive(Debug)]
pub struct Adaptive {
    info: ExperimentInfo,
}

impl Adaptive {
    /// Runs evaluated.
    fn runs(&self, p: &crate::Profile) -> usize {
        if self.info.on_cifar10() {
            p.adaptive_runs.min(p.cifar_runs)
        } else {
            p.adaptive_runs
        }
    }

    /// Test images attacked.
    fn test(&self, p: &crate::Profile) -> usize {
        if self.info.on_cifar10() {
            p.adaptive_test.min(p.cifar_test)
        } else {
            p.adaptive_test
        }
    }

    fn models(&self) -> impl Iterator<Item = &'static str> {
        self.info.models.iter().copied().filter(|m| available(m))
    }
}

/// The attacks at one ε: FGSM, PGD (EOT on stochastic models, step
/// 2.5 · ε / steps), Square, and with `bpda` (the CIFAR-10 variant, on
/// stochastic models) PGD with every saturating part differentiated as the
/// identity; `None` where an attack does not apply.
fn attacks(ctx: &PlanContext<'_>, job: &TrainJob, eps: f64, bpda: bool) -> [Option<AttackSpec>; 4] {
    let p = ctx.profile;
    let stochastic = job.spec.is_stochastic();
    let eot = if stochastic { p.eot } else { 1 };
    let pgd = |options: GradientOptions| AttackSpec::Pgd {
        eps,
        step: 2.5 * eps / p.pgd_steps as f64,
        steps: p.pgd_steps,
        eot,
        options,
    };
    [
        Some(AttackSpec::fgsm(eps)),
        Some(pgd(GradientOptions::default())),
        Some(AttackSpec::Square {
            eps,
            queries: p.square_queries,
            eot: 1,
            confirm: sgbn_attacks::SQUARE_CONFIRM_DRAWS,
        }),
        (bpda && stochastic).then(|| {
            pgd(GradientOptions {
                bpda: sgbn_models::Bpda::all(),
                ..GradientOptions::default()
            })
        }),
    ]
}

fn evals(ctx: &PlanContext<'_>, job: &TrainJob, test: usize, bpda: bool) -> Vec<EvalJob> {
    let p = ctx.profile;
    p.adaptive_eps
        .iter()
        .flat_map(|&eps| attacks(ctx, job, eps, bpda))
        .flatten()
        .map(|a| EvalJob::new(job, a, test, p.repeats))
        .collect()
}

fn clean(ctx: &PlanContext<'_>, job: &TrainJob, test: usize) -> CleanJob {
    CleanJob::new(job, test, ctx.profile.repeats)
}

impl Experiment for Adaptive {
    fn info(&self) -> &ExperimentInfo {
        &self.info
    }

    fn jobs(&self, ctx: &PlanContext<'_>) -> Result<Jobs> {
        let mut jobs = Jobs::default();
        let test = self.test(ctx.profile);
        for run in 0..self.runs(ctx.profile) {
            for m in self.models() {
                let job = ctx.train_job(m, run)?;
                jobs.extend(evals(ctx, &job, test, self.info.on_cifar10()));
                jobs.add(clean(ctx, &job, test));
                jobs.trains.push(job);
            }
        }
        Ok(jobs)
    }

    fn report(&self, ctx: &ReportContext<'_>) -> Result<Section> {
        let plan = ctx.plan();
        let p = ctx.profile;
        let (runs, test) = (self.runs(p), self.test(p));
        let mut s = Section::default();
        let md = &mut s.markdown;
        let _ = writeln!(
            md,
            "Accuracy (%) over {} stochastic passes per image (mean over passes; majority vote in report.json), run 0{}. PGD uses EOT {} on stochastic models; Square {} queries, a success on a stochastic model confirmed by a majority of 10 fresh passes. \"Worst case\": the share of images that survive every attack at that ε, each by a strict majority of its passes.\n",
            p.repeats,
            if runs > 1 {
                format!("..{}", runs - 1)
            } else {
                String::new()
            },
            p.eot,
            p.square_queries
        );
        let bpda = self.info.on_cifar10();
        let columns = if bpda { 5 } else { 4 };
        let _ = write!(md, "| model | clean |");
        for e in &p.adaptive_eps {
            let _ = write!(md, " FGSM {e} | PGD {e} | Square {e} |");
            if bpda {
                let _ = write!(md, " PGD, BPDA all {e} |");
            }
            let _ = write!(md, " worst case {e} |");
        }
        let _ = writeln!(
            md,
            " flags |\n|---|---|{}---|",
            "---|".repeat(columns * p.adaptive_eps.len())
        );
        let mut notes = Vec::new();
        // Images × passes behind each accuracy, for the significance test.
        let n = test * p.repeats.max(1);
        for m in self.models() {
            let run0 = plan.train_job(m, 0)?;
            let clean = ctx.results.get(&clean(&plan, &run0, test));
            let _ = write!(
                md,
                "| {m} | {} |",
                clean.as_ref().map_or("–".into(), |c| format!(
                    "{:.1}",
                    100.0 * c.repeated.summary.mean
                ))
            );
            let evidence = clean
                .as_ref()
                .map_or_else(SanityEvidence::default, |c| c.evidence());
            let mut flags = SanityFlags::check(&evidence).model_labels();
            for &e in &p.adaptive_eps {
                // Mean over the runs that finished, per attack (FGSM, PGD,
                // Square, PGD with BPDA).
                let mut means = [None; 4];
                for (i, mean) in means.iter_mut().enumerate() {
                    let mut vals = Vec::new();
                    for run in 0..runs {
                        let job = plan.train_job(m, run)?;
                        let Some(spec) = attacks(&plan, &job, e, bpda)[i].clone() else {
                            continue;
                        };
                        debug_assert!(eps_eq(spec.eps(), e));
                        let eval = EvalJob::new(&job, spec, test, p.repeats);
                        if let Some(r) = ctx.results.get(&eval) {
                            vals.push(100.0 * r.headline());
                        }
                    }
                    *mean = summary(&vals).map(|s| s.mean);
                }
                let [f, pgd, sq, pgd_bpda] = means;
                let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
                let _ = write!(md, " {} | {} | {} |", show(f), show(pgd), show(sq));
                if bpda {
                    let _ = write!(md, " {} |", show(pgd_bpda));
                }
                // The per-image worst case over the attacks at ε, per run:
                // an image survives only if it survives every one.
                let mut worst = Vec::new();
                for run in 0..runs {
                    let job = plan.train_job(m, run)?;
                    let results: Option<Vec<_>> = attacks(&plan, &job, e, bpda)
                        .into_iter()
                        .flatten()
                        .map(|spec| ctx.results.get(&EvalJob::new(&job, spec, test, p.repeats)))
                        .collect();
                    if let Some(w) = results.and_then(|r| worst_case(&r.iter().collect::<Vec<_>>()))
                    {
                        worst.push(100.0 * w.robust);
                    }
                }
                let worst = summary(&worst).map(|s| s.mean);
                let _ = write!(md, " **{}** |", show(worst));
                let best_gradient = [f, pgd, pgd_bpda]
                    .into_iter()
                    .flatten()
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
                let at = |v: Option<f64>| {
                    v.map(|v| AttackAccuracy {
                        accuracy: v / 100.0,
                        n,
                    })
                };
                let flags_e = SanityFlags::check(&evidence.with_attacks(at(best_gradient), at(sq)));
                if flags_e.gradient_free_beats_gradient == Some(true) {
                    flags.push(format!("Square beats gradients at ε {e}"));
                }
                let mut point =
                    serde_json::json!({"fgsm": f, "pgd": pgd, "square": sq, "worst_case": worst});
                if bpda {
                    point["pgd_bpda"] = serde_json::json!(pgd_bpda);
                }
                s.json.insert(format!("{m}/{e}"), point);
            }
            let _ = writeln!(
                md,
                " {} |",
                if flags.is_empty() {
                    "none".to_string()
                } else {
                    flags.join("; ")
                }
            );
            if flags.iter().any(|f| f.starts_with("Square")) {
                notes.push(format!("{m}: a gradient-free attack does better than the gradient attacks, a sign of gradient masking"));
            }
        }
        let _ = writeln!(
            md,
            "\n**Verdict:** {}.\n",
            if notes.is_empty() {
                "no gradient-free attack beat the gradient attacks by more than two standard errors"
                    .to_string()
            } else {
                notes.join("; ")
            }
        );
        Ok(s)
    }
}
