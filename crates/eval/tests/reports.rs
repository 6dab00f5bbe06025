//! Report sections from known results: every experiment writes its section
//! from whatever finished, compares with the thesis by the 2σ rule, and
//! links every figure it draws.

mod common;

use common::{Store, answer, data, thesis_dir};

use sgbn_eval::{
    AttackSpec, CifarInputs, CleanJob, CleanResult, EvalJob, EvalResult, Figure, Plan, PlanContext,
    Profile, ReportContext, Results, TransferJob, TransferResult, assemble, experiments,
};
use sgbn_metrics::{RepeatedAccuracy, RunSummary};

/// A result store that answers every evaluation with `accuracy(job)`, and
/// nothing else unless asked.
struct Fake<F: Fn(&EvalJob) -> Option<f64>> {
    accuracy: F,
    transfers: bool,
}

impl<F: Fn(&EvalJob) -> Option<f64>> Fake<F> {
    fn eval(&self, job: &EvalJob) -> Option<EvalResult> {
        (self.accuracy)(job).map(|accuracy| EvalResult {
            accuracy,
            total: job.test_size,
            repeated: None,
            seconds: 0.0,
            cost: None,
            confidence: None,
            correct_passes: None,
        })
    }

    fn clean(&self, _: &CleanJob) -> Option<CleanResult> {
        self.transfers.then(|| CleanResult {
            repeated: RepeatedAccuracy {
                per_pass: vec![0.9, 0.9],
                summary: RunSummary::of(&[0.9, 0.9]).expect("summary"),
                majority_vote: 0.9,
                unstable_fraction: 0.25,
                examples: 100,
            },
            zero_gradient_examples: 0.0,
            non_finite_gradients: 0,
            seconds: 0.0,
        })
    }

    fn transfer(&self, job: &TransferJob) -> Option<TransferResult> {
        self.transfers.then(|| TransferResult {
            accuracy: job
                .targets
                .iter()
                .map(|t| (t.model.clone(), 0.5))
                .chain(
                    job.shuffled_targets
                        .iter()
                        .map(|t| (format!("{}-shuffled", t.model), 0.899)),
                )
                .collect(),
            seconds: 0.0,
        })
    }

    /// The store that answers with these.
    fn store(&self) -> Store<'_> {
        Store {
            eval: answer(|j| self.eval(j)),
            clean: answer(|j| self.clean(j)),
            transfer: answer(|j| self.transfer(j)),
            ..Store::default()
        }
    }
}

fn context<'a>(
    profile: &'a Profile,
    data: &'a [String],
    results: &'a dyn Results,
    thesis_dir: &'a std::path::Path,
) -> ReportContext<'a> {
    // CIFAR-10 as the official files would give it, so that every
    // experiment, fig4.5 included, has its data.
    static CIFAR: std::sync::LazyLock<CifarInputs> = std::sync::LazyLock::new(|| CifarInputs {
        sha256: vec!["0".repeat(64)],
        stand_in: false,
    });
    ReportContext {
        profile,
        data,
        cifar: Some(&CIFAR),
        results,
        thesis_dir,
        thesis_budget: None,
    }
}

#[test]
fn an_empty_store_gives_every_section_with_dashes_and_no_error() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    let store = Fake {
        accuracy: |_: &EvalJob| None,
        transfers: false,
    };
    let dir = thesis_dir();
    let results = store.store();
    let ctx = context(&profile, &data, &results, &dir);
    let all = experiments::all();
    let report = assemble(&all, &ctx).expect("report");
    for e in &all {
        assert!(
            report.markdown.contains(&format!("## `{}`", e.id())),
            "{}",
            e.id()
        );
        assert!(report.json.contains_key(e.id()));
    }
    assert!(report.markdown.contains(" – |"));
    // Every figure drawn is linked from the Markdown, once per name.
    let mut names = std::collections::HashSet::new();
    for (name, _) in &report.figures {
        assert!(names.insert(name.clone()), "figure {name} twice");
        assert!(
            report.markdown.contains(&format!("(figures/{name})")),
            "{name}"
        );
    }
}

#[test]
fn the_sgbn_row_of_table_4_11_is_compared_with_the_two_sigma_rule() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    // SGBN: 93 % at ε 0.3 (the thesis: 93.1 ± 1.2, within 2σ); every other
    // model and ε: 10 %.
    let store = Fake {
        accuracy: |job: &EvalJob| {
            Some(match (&job.attack, job.model.model.as_str()) {
                (AttackSpec::Fgsm { eps, .. }, "sgbn") if (*eps - 0.3).abs() < 1e-9 => 0.93,
                _ => 0.10,
            })
        },
        transfers: false,
    };
    let dir = thesis_dir();
    let results = store.store();
    let ctx = context(&profile, &data, &results, &dir);
    let table = experiments::find("table4.11").expect("table");
    let section = table.report(&ctx).expect("section");
    let md = &section.markdown;
    assert!(
        md.contains("| sgbn | 0.3 | 93.0 (1) | 93.1 ± 1.2 | -0.1 | yes |"),
        "{md}"
    );
    assert!(
        md.contains("| cnn | 0.3 | 10.0 (1) | 15.3 ± 2.2 | -5.3 | no |"),
        "{md}"
    );
    // The verdict counts: 1 of 32 (8 models × 4 ε) within 2σ.
    assert!(
        md.contains("**Verdict:** partly within 2σ of the thesis: 1 of 32 cells"),
        "{md}"
    );
    // The JSON holds every run's value.
    let sgbn = &section.json["sgbn"];
    assert_eq!(sgbn[3]["runs"][0].as_f64(), Some(93.0));
    // Its figure is a line plot with the thesis's dashed series.
    let Figure::Line { series, .. } = &section.figures[0].1 else {
        panic!("a line plot");
    };
    assert!(
        series
            .iter()
            .any(|s| s.dashed && s.label == "sgbn (thesis)")
    );
}

#[test]
fn the_adaptive_flags_come_from_the_sanity_rules() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    // Square leaves 10 %, the gradient attacks 60 %: more than two standard
    // errors apart, a gradient-masking flag at every ε.
    let store = Fake {
        accuracy: |job: &EvalJob| {
            Some(if job.attack.is_gradient_based() {
                0.6
            } else {
                0.1
            })
        },
        transfers: true,
    };
    let dir = thesis_dir();
    let results = store.store();
    let ctx = context(&profile, &data, &results, &dir);
    let section = experiments::find("adaptive")
        .expect("adaptive")
        .report(&ctx)
        .expect("section");
    let md = &section.markdown;
    assert!(
        md.contains("random (25.0 % unstable); Square beats gradients at ε 0.1; Square beats gradients at ε 0.3"),
        "{md}"
    );
    assert!(md.contains("a sign of gradient masking"), "{md}");
}

#[test]
fn a_transfer_matrix_reads_every_run_of_every_source() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    let store = Fake {
        accuracy: |_: &EvalJob| None,
        transfers: true,
    };
    let dir = thesis_dir();
    let results = store.store();
    let ctx = context(&profile, &data, &results, &dir);
    let fig = experiments::find("fig4.6").expect("fig4.6");
    let section = fig.report(&ctx).expect("section");
    assert!(
        section.markdown.contains("| sgbn | 50.0 (1) |"),
        "{}",
        section.markdown
    );
    let plan = Plan::build(
        &[fig],
        &PlanContext {
            profile: &profile,
            data: &data,
            cifar: None,
        },
    )
    .expect("plan");
    assert_eq!(
        plan.of::<sgbn_eval::TransferJob>().len(),
        5,
        "one set per source"
    );
    assert!(
        plan.of::<sgbn_eval::TransferJob>()
            .iter()
            .all(|t| t.targets.len() == 5)
    );
}

#[test]
fn the_protocol_verdict_says_when_a_stronger_attack_breaks_the_thesis_protocol() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    // The thesis's protocol (own-prediction labels) leaves 90 %; PGD-EOT
    // leaves 5 % on the authors' SGBN and 90 % elsewhere.
    let store = Fake {
        accuracy: |job: &EvalJob| {
            let thesis_protocol =
                job.attack.options().labels == sgbn_attacks::LabelSource::Predicted;
            let pgd_on_sgbn =
                matches!(job.attack, AttackSpec::Pgd { .. }) && job.model.model == "sgbn-authors";
            Some(if pgd_on_sgbn {
                0.05
            } else if thesis_protocol {
                0.9
            } else {
                0.85
            })
        },
        transfers: true,
    };
    let dir = thesis_dir();
    let results = store.store();
    let ctx = context(&profile, &data, &results, &dir);
    let section = experiments::find("protocol")
        .expect("protocol")
        .report(&ctx)
        .expect("section");
    let md = &section.markdown;
    assert!(
        md.contains("| sgbn-authors | PGD-EOT | | | | 5.0 (1) |"),
        "{md}"
    );
    assert!(
        md.contains("overstates their robustness")
            && md.contains("sgbn-authors (90.0 → 5.0 by pgd-eot)"),
        "{md}"
    );
    assert!(
        !md.contains("cnn-authors (90.0"),
        "only where it is significant"
    );
    assert!(md.contains("| sgbn | **thesis** (Table 4.11, sgbn) | 98.3 ± 0.1 | 98.0 ± 0.1 | 96.8 ± 0.2 | 93.1 ± 1.2 |"), "{md}");
    let Figure::Heat { rows, cols, .. } = &section.figures[0].1 else {
        panic!("a heat map");
    };
    assert_eq!(rows.len(), 8);
    assert_eq!(cols[0], "thesis");
}

#[test]
fn a_number_stated_in_the_text_is_compared_like_a_table_cell() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    // SGBN with a ReLU dense layer: 91 % at ε 0.3; the text: 91.1 ± 1.1.
    let store = Fake {
        accuracy: |_: &EvalJob| Some(0.91),
        transfers: false,
    };
    let dir = thesis_dir();
    let results = store.store();
    let ctx = context(&profile, &data, &results, &dir);
    let md = experiments::find("fig4.21")
        .expect("fig4.21")
        .report(&ctx)
        .expect("section")
        .markdown;
    assert!(
        md.contains("| sgbn-relu | 0.3 | 91.0 (1) | 91.1 ± 1.1 | -0.1 | yes |"),
        "{md}"
    );
}

#[test]
fn table_4_8_judges_with_shuffled_gate_masks_as_its_own_target() {
    let profile = Profile::named("smoke").expect("smoke");
    let data = data();
    let ctx = PlanContext {
        profile: &profile,
        data: &data,
        cifar: None,
    };
    let table = experiments::find("table4.8").expect("table4.8");
    let jobs = table.jobs(&ctx).expect("jobs");
    let x = &jobs.of::<sgbn_eval::TransferJob>()[0];
    assert_eq!(x.shuffled_targets.len(), 1);
    assert_eq!(x.shuffled_targets[0].model, "sgbn");
    assert!(!x.targets.iter().any(|t| t.model.contains("shuffled")));
    // fig4.6's transfer sets have no shuffled target, and their keys do
    // not mention one (keys made before the field existed stay valid).
    let fig = experiments::find("fig4.6")
        .expect("fig4.6")
        .jobs(&ctx)
        .expect("jobs");
    let json = serde_json::to_string(&fig.of::<sgbn_eval::TransferJob>()[0]).expect("json");
    assert!(!json.contains("shuffled"), "{json}");

    let store = Fake {
        accuracy: |_: &EvalJob| None,
        transfers: true,
    };
    let dir = thesis_dir();
    let results = store.store();
    let rctx = context(&profile, &data, &results, &dir);
    let md = table.report(&rctx).expect("section").markdown;
    assert!(md.contains("| sgbn-shuffled |"), "{md}");
    // 89.9 % from SGBN's examples: the thesis's 89.9 ± 1.6.
    assert!(
        md.contains("| sgbn | sgbn-shuffled | 89.9 (1) | 89.9 ± 1.6 | +0.0 | yes |"),
        "{md}"
    );
}

#[test]
fn a_smaller_profile_quotes_the_thesis_budget_notes_and_the_thesis_budget_does_not() {
    let data = data();
    let store = Fake {
        accuracy: |_: &EvalJob| Some(0.5),
        transfers: false,
    };
    let dir = thesis_dir();
    let results = store.store();
    let notes: sgbn_eval::ThesisBudgetNotes = serde_json::from_str(
        r#"{"measured": "2026-11-30", "commit": "19c3429", "sources": ["docs/x.md"],
            "headline": ["SGBN reproduces, and it is masking"],
            "sections": {"table4.11": "4 of 4 cells"}, "not_yet": "queued"}"#,
    )
    .expect("notes");
    let exps = [
        experiments::find("table4.11").expect("id"),
        experiments::find("fig4.3").expect("id"),
    ];
    let report_of = |name: &str| {
        let profile = Profile::named(name).expect("profile");
        let mut ctx = context(&profile, &data, &results, &dir);
        ctx.thesis_budget = Some(&notes);
        assemble(&exps, &ctx).expect("report")
    };
    let quick = report_of("quick");
    let md = &quick.markdown;
    assert!(
        md.contains("## What the `quick` budget can and cannot show")
            && md.contains("for at most 2 epoch(s)")
            && md.contains("measured 2026-11-30, commit `19c3429`; docs/x.md")
            && md.contains("- SGBN reproduces, and it is masking"),
        "{md}"
    );
    // Each section its own line, after its heading and before its table.
    let table = md.find("## `table4.11`").expect("table4.11");
    let fig = md.find("## `fig4.3`").expect("fig4.3");
    let line = md
        .find("At the thesis's budget: 4 of 4 cells")
        .expect("line");
    assert!(table < line && line < fig, "{md}");
    assert!(md[fig..].contains("At the thesis's budget: queued"), "{md}");
    // The quotation is not part of the run's numbers.
    let plain = {
        let profile = Profile::named("quick").expect("profile");
        assemble(&exps, &context(&profile, &data, &results, &dir)).expect("report")
    };
    assert_eq!(quick.json, plain.json);
    assert!(!plain.markdown.contains("At the thesis's budget"));
    // Chapter 3 trains at the thesis's budget already: nothing quoted.
    let profile = Profile::named("quick").expect("profile");
    let mut ctx = context(&profile, &data, &results, &dir);
    ctx.thesis_budget = Some(&notes);
    let ch3 = assemble(&[experiments::find("fig3.2").expect("id")], &ctx).expect("report");
    assert!(!ch3.markdown.contains("At the thesis's budget:"));
    assert!(!ch3.markdown.contains("can and cannot show"));
    // The thesis-budget report is the measurement: it quotes nothing.
    let budget = report_of("thesis-budget");
    assert!(!budget.markdown.contains("At the thesis's budget:"));
    assert!(!budget.markdown.contains("can and cannot show"));
}

#[test]
fn fig_4_4_compares_the_bim_numbers_of_the_text_and_counts_them_in_its_verdict() {
    let profile = Profile::named("smoke").expect("smoke");
    // BIM and ILL leave 77.7 % everywhere; the text: SGBN 77.7 ± 5.5 at
    // ε 0.1 (BIM); its ε 0.06 numbers are off smoke's grid (0.05, 0.1).
    let store = Fake {
        accuracy: |_: &EvalJob| Some(0.777),
        transfers: false,
    };
    let md = common::section("fig4.4", &profile, &store.store()).markdown;
    assert!(
        md.contains("| sgbn | 0.1 | 77.7 (1) | 77.7 ± 5.5 | +0.0 | yes |"),
        "{md}"
    );
    // One comparison (BIM only: the text states no ILL number).
    assert_eq!(md.matches("| sgbn | 0.1 | 77.7").count(), 1, "{md}");
    assert!(md.contains("1 of 1"), "{md}");
}

#[test]
fn fig_4_15_prints_the_two_cells_its_text_states_beside_ours_without_a_verdict() {
    let profile = Profile::named("smoke").expect("smoke");
    // Every transfer leaves 50 %; the text: SGBN (ST) → CNN 62.8 %, SGBN
    // (DT) → CNN 54.1 %, no std.
    let store = Fake {
        accuracy: |_: &EvalJob| None,
        transfers: true,
    };
    let md = common::section("fig4.15", &profile, &store.store()).markdown;
    assert!(
        md.contains("| sgbn | cnn | 50.0 (1) | 62.8 | -12.8 |"),
        "{md}"
    );
    assert!(
        md.contains("| sgbn-dt | cnn | 50.0 (1) | 54.1 | -4.1 |"),
        "{md}"
    );
    assert!(md.contains("no std given, so no 2σ verdict"), "{md}");
    // Only fig4.15's: fig4.6 states none of these.
    let fig4_6 = common::section("fig4.6", &profile, &store.store()).markdown;
    assert!(
        !fig4_6.contains("Beside the numbers the text states"),
        "{fig4_6}"
    );
}

#[test]
fn fig_4_6_prints_the_ranges_and_averages_its_text_states_beside_ours() {
    let profile = Profile::named("smoke").expect("smoke");
    // Source i's examples leave (40 + 10 i) % on every target, except on
    // the CNN, which they leave at (10 + 5 i) %.
    let order = ["sgbn", "sap", "bnn-pgd", "cnn-bin", "cnn"];
    let store = common::Store {
        transfer: answer(|job: &TransferJob| {
            let i = order.iter().position(|m| *m == job.source.model)? as f64;
            Some(TransferResult {
                accuracy: job
                    .targets
                    .iter()
                    .map(|t| {
                        let a = if t.model == "cnn" {
                            10.0 + 5.0 * i
                        } else {
                            40.0 + 10.0 * i
                        };
                        (t.model.clone(), a / 100.0)
                    })
                    .collect(),
                seconds: 0.0,
            })
        }),
        ..common::Store::default()
    };
    let md = common::section("fig4.6", &profile, &store).markdown;
    // On SGBN: 40 … 80 over the sources; on the CNN: 10 … 30.
    assert!(
        md.contains("| range on target sgbn over the sources | 40.0–80.0 | 63.9–93.1 |"),
        "{md}"
    );
    assert!(
        md.contains("| range on target cnn over the sources | 10.0–30.0 | 15.3–77.8 |"),
        "{md}"
    );
    // SGBN's examples: (4 · 40 + 10) / 5 = 34; the CNN's: (4 · 80 + 30) / 5 = 70.
    assert!(
        md.contains("| average over the targets of source sgbn | 34.0 | 77.0 |"),
        "{md}"
    );
    assert!(
        md.contains("| average over the targets of source cnn | 70.0 | 54.0 |"),
        "{md}"
    );
    // fig4.15 states none of these.
    let fig4_15 = common::section("fig4.15", &profile, &store).markdown;
    assert!(
        !fig4_15.contains("ranges and averages the text states"),
        "{fig4_15}"
    );
}

#[test]
fn table_4_11_more_records_the_thesis_s_two_stds_for_sap_add_params() {
    let profile = Profile::named("smoke").expect("smoke");
    let store = Fake {
        accuracy: |_: &EvalJob| Some(0.5),
        transfers: false,
    };
    let md = common::section("table4.11-more", &profile, &store.store()).markdown;
    assert!(
        md.contains("The thesis's SAP (add params) row: the thesis disagrees with itself"),
        "{md}"
    );
    assert!(
        md.contains("63.7 ± 11.9 %") && md.contains("63.7 ± 6.8 %"),
        "{md}"
    );
    // Only where the row is shown.
    let t = common::section("table4.11", &profile, &store.store()).markdown;
    assert!(!t.contains("disagrees with itself"), "{t}");
}

#[test]
fn fig_4_22_sets_the_text_s_crossover_claim_beside_our_curves() {
    let profile = Profile::named("smoke").expect("smoke");
    // 1W-SGBN 60 %, SGBN 50 % at every ε: the claim "1W above 2W beyond ε
    // 0.23" holds at 0.3, "2W above 1W below 0.23" fails at 0.1.
    let store = Fake {
        accuracy: |job: &EvalJob| {
            Some(if job.model.model == "1w-sgbn" {
                0.6
            } else {
                0.5
            })
        },
        transfers: false,
    };
    let md = common::section("fig4.22", &profile, &store.store()).markdown;
    assert!(
        md.contains("| 1w-sgbn > sgbn | 0.3 | 60.0 ± 0.0 vs 50.0 ± 0.0 | yes | yes |"),
        "{md}"
    );
    assert!(
        md.contains("| sgbn > 1w-sgbn | 0.1 | 50.0 ± 0.0 vs 60.0 ± 0.0 | no | yes |"),
        "{md}"
    );
    assert!(
        !md.contains("| 1w-sgbn > sgbn | 0.1 |"),
        "outside the claim's range: {md}"
    );
    let other = common::section("fig4.3", &profile, &store.store()).markdown;
    assert!(!other.contains("The text's claim"), "{other}");
}
