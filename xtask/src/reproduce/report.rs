//! `results/<profile>/REPORT.md` (and `report.json`, `figures/*.svg`),
//! regenerated from the cache: our mean ± std beside the thesis's, a
//! verdict per experiment that says no more than the numbers support, and a
//! manifest.

use std::{collections::BTreeMap, fmt::Write, path::Path};

use anyhow::Context as _;
use serde::Deserialize;
use sgbn_metrics::{AttackAccuracy, RunSummary, significantly_lower};
use sgbn_models::write_atomic;

use super::{
    jobs::{AttackSpec, CleanJob, EvalJob, RESULTS_VERSION, TrainJob, TrainedModel},
    plan::{TABLE_EPS, TRANSFER_EPS, evals_for, runs_of, transfers_of},
    profile::Profile,
    registry::{Experiment, Kind, available},
    svg::{PALETTE, Series, heat_map, line_plot},
};

#[derive(Debug, Deserialize)]
struct ThesisRow {
    model: String,
    label: String,
    mean: Vec<f64>,
    std: Vec<f64>,
}

#[derive(Debug, Deserialize)]
struct ThesisTable {
    source: String,
    eps: Vec<f64>,
    rows: Vec<ThesisRow>,
}

#[derive(Debug, Deserialize)]
struct ThesisTransferRow {
    target: String,
    mean: Vec<f64>,
    std: Vec<f64>,
}

#[derive(Debug, Deserialize)]
struct ThesisTransfer {
    source: String,
    sources: Vec<String>,
    rows: Vec<ThesisTransferRow>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Everything the report needs besides the cache.
pub struct ReportContext<'a> {
    pub profile: &'a Profile,
    pub experiments: &'a [Experiment],
    pub cache: &'a Path,
    pub out: &'a Path,
    pub data: &'a [(String, String)],
    pub root: &'a Path,
}

/// A comparison cell: ours vs the thesis.
struct Cell {
    ours: RunSummary,
    thesis: (f64, f64),
}

impl Cell {
    fn within(&self) -> bool {
        let sigma = (self.thesis.1.powi(2) + self.ours.std.powi(2)).sqrt();
        (self.ours.mean - self.thesis.0).abs() <= 2.0 * sigma
    }
}

fn fmt(s: &RunSummary) -> String {
    if s.n > 1 {
        format!("{:.1} ± {:.1} ({})", s.mean, s.std, s.n)
    } else {
        format!("{:.1} (1)", s.mean)
    }
}

fn summary(values: &[f64]) -> Option<RunSummary> {
    RunSummary::of(values).ok()
}

fn eps_eq(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Accuracies (%) of `attack` on `model` over the runs that finished.
fn eval_values(
    ctx: &ReportContext<'_>,
    exp: &Experiment,
    model: &str,
    pick: &dyn Fn(&AttackSpec) -> bool,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::new();
    for run in 0..runs_of(exp, ctx.profile) {
        let job = TrainJob::new(model, run, ctx.profile, &data_sums(ctx))?;
        for e in evals_for(exp, &job, ctx.profile) {
            if pick(&e.attack)
                && let Some(r) = e.load(ctx.cache)
            {
                out.push(100.0 * EvalJob::headline(&r));
            }
        }
    }
    Ok(out)
}

fn data_sums(ctx: &ReportContext<'_>) -> Vec<String> {
    ctx.data.iter().map(|(_, s)| s.clone()).collect()
}

fn verdict(cells: &[Cell], ordering: Option<(Vec<String>, Vec<String>)>) -> String {
    let mut v = if cells.is_empty() {
        "no thesis numbers to compare with".to_string()
    } else {
        let k = cells.iter().filter(|c| c.within()).count();
        let what = if k == cells.len() {
            "within 2σ of the thesis"
        } else if k == 0 {
            "differs from the thesis"
        } else {
            "partly within 2σ of the thesis"
        };
        format!(
            "{what}: {k} of {} cells within 2σ (σ combines the thesis's std and ours)",
            cells.len()
        )
    };
    if let Some((ours, thesis)) = ordering
        && ours.len() > 1
    {
        if ours == thesis {
            let _ = write!(
                v,
                "; same ordering of models at ε = 0.3 ({})",
                ours.join(" > ")
            );
        } else {
            let _ = write!(
                v,
                "; ordering at ε = 0.3 differs (ours: {}; thesis: {})",
                ours.join(" > "),
                thesis.join(" > ")
            );
        }
    }
    v
}

/// Writes the report; returns its path.
pub fn write(ctx: &ReportContext<'_>) -> anyhow::Result<std::path::PathBuf> {
    let figures = ctx.out.join("figures");
    std::fs::create_dir_all(&figures)?;
    let table: ThesisTable = read_json(&ctx.root.join("data/thesis/table4_11.json"))?;
    let transfer: ThesisTransfer = read_json(&ctx.root.join("data/thesis/table4_8.json"))?;
    let thesis_at = |model: &str, eps: f64| -> Option<(f64, f64)> {
        let row = table.rows.iter().find(|r| r.model == model)?;
        let i = table.eps.iter().position(|e| eps_eq(*e, eps))?;
        Some((row.mean[i], row.std[i]))
    };
    let mut md = String::new();
    let mut json = BTreeMap::new();
    let _ = writeln!(
        md,
        "# sgbn reproduction report: profile `{}`\n",
        ctx.profile.name
    );
    let _ = writeln!(
        md,
        "Our numbers are accuracies in %, mean ± sample std over the runs that finished (n in parentheses); the thesis's are mean ± std of 10 runs. \"Within 2σ\" means |ours − thesis| ≤ 2·√(σ_thesis² + σ_ours²). Regenerate with `cargo xtask report --profile {}`.\n",
        ctx.profile.name
    );
    for exp in ctx.experiments {
        let missing: Vec<&str> = exp
            .models
            .iter()
            .copied()
            .filter(|m| !available(m))
            .collect();
        let models: Vec<&str> = exp
            .models
            .iter()
            .copied()
            .filter(|m| available(m))
            .collect();
        let _ = writeln!(
            md,
            "## `{}`: {}\n\nThesis: {}.\n",
            exp.id, exp.title, exp.reference
        );
        if !missing.is_empty() {
            let _ = writeln!(
                md,
                "Not built in sgbn yet, so not run: {}.\n",
                missing.join(", ")
            );
        }
        let mut exp_json = serde_json::Map::new();
        match exp.kind {
            Kind::FgsmCurve | Kind::Table => {
                let grid: Vec<f64> = if exp.kind == Kind::Table {
                    TABLE_EPS.to_vec()
                } else {
                    ctx.profile.fgsm_eps.clone()
                };
                let _ = write!(md, "| model |");
                for e in &grid {
                    let _ = write!(md, " ε = {e} |");
                }
                let _ = writeln!(md, "\n|---|{}", "---|".repeat(grid.len()));
                let mut series = Vec::new();
                let mut cells = Vec::new();
                let mut ours_03: Vec<(String, f64)> = Vec::new();
                let mut thesis_03: Vec<(String, f64)> = Vec::new();
                let mut cmp = String::new();
                for (k, m) in models.iter().enumerate() {
                    let _ = write!(md, "| {m} |");
                    let mut pts = Vec::new();
                    let mut row_json = Vec::new();
                    for &e in &grid {
                        let vals = eval_values(
                            ctx,
                            exp,
                            m,
                            &|a| matches!(a, AttackSpec::Fgsm { eps } if eps_eq(*eps, e)),
                        )?;
                        match summary(&vals) {
                            Some(s) => {
                                let _ = write!(md, " {} |", fmt(&s));
                                pts.push((e, s.mean, s.std));
                                if let Some(t) = thesis_at(m, e) {
                                    let c = Cell { ours: s, thesis: t };
                                    let _ = writeln!(
                                        cmp,
                                        "| {m} | {e} | {} | {:.1} ± {:.1} | {:+.1} | {} |",
                                        fmt(&c.ours),
                                        t.0,
                                        t.1,
                                        c.ours.mean - t.0,
                                        if c.within() { "yes" } else { "no" }
                                    );
                                    if eps_eq(e, 0.3) {
                                        ours_03.push((m.to_string(), s.mean));
                                        thesis_03.push((m.to_string(), t.0));
                                    }
                                    cells.push(c);
                                }
                                row_json.push(
                                    serde_json::json!({"eps": e, "summary": s, "runs": vals}),
                                );
                            }
                            None => {
                                let _ = write!(md, " – |");
                            }
                        }
                    }
                    let _ = writeln!(md);
                    let color = PALETTE[k % PALETTE.len()];
                    series.push(Series {
                        label: m.to_string(),
                        points: pts,
                        dashed: false,
                        color,
                    });
                    if let Some(row) = table.rows.iter().find(|r| r.model == *m) {
                        let tp: Vec<(f64, f64, f64)> = table
                            .eps
                            .iter()
                            .zip(&row.mean)
                            .zip(&row.std)
                            .filter(|((e, _), _)| grid.iter().any(|g| eps_eq(*g, **e)))
                            .map(|((e, mu), sd)| (*e, *mu, *sd))
                            .collect();
                        series.push(Series {
                            label: format!("{m} (thesis)"),
                            points: tp,
                            dashed: true,
                            color,
                        });
                    }
                    exp_json.insert(m.to_string(), serde_json::Value::Array(row_json));
                }
                if !cmp.is_empty() {
                    let _ = writeln!(
                        md,
                        "\nBeside the thesis ({}):\n\n| model | ε | ours | thesis | difference | within 2σ |\n|---|---|---|---|---|---|\n{cmp}",
                        table.source
                    );
                }
                if exp.kind == Kind::Table {
                    let absent: Vec<&str> = table
                        .rows
                        .iter()
                        .filter(|r| !models.contains(&r.model.as_str()))
                        .map(|r| r.label.as_str())
                        .collect();
                    let _ = writeln!(
                        md,
                        "\nThesis rows of Table 4.11 not in this experiment: {}.",
                        absent.join("; ")
                    );
                }
                let order = |v: &mut Vec<(String, f64)>| {
                    v.sort_by(|a, b| b.1.total_cmp(&a.1));
                    v.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>()
                };
                let ordering =
                    (!ours_03.is_empty()).then(|| (order(&mut ours_03), order(&mut thesis_03)));
                let name = format!("{}.svg", exp.id);
                write_atomic(
                    &figures.join(&name),
                    line_plot(&format!("{}: FGSM, white box", exp.id), "ε", &series).as_bytes(),
                )?;
                let _ = writeln!(
                    md,
                    "\n![{}](figures/{name})\n\n**Verdict:** {}.\n",
                    exp.id,
                    verdict(&cells, ordering)
                );
            }
            Kind::Iterative => {
                for (label, is) in [("BIM", true), ("ILL", false)] {
                    let _ = write!(
                        md,
                        "{label} (T = {}, α = min(0.01, ε)):\n\n| model |",
                        ctx.profile.iterative_steps
                    );
                    for e in &ctx.profile.iterative_eps {
                        let _ = write!(md, " ε = {e} |");
                    }
                    let _ = writeln!(
                        md,
                        "\n|---|{}",
                        "---|".repeat(ctx.profile.iterative_eps.len())
                    );
                    let mut series = Vec::new();
                    for (k, m) in models.iter().enumerate() {
                        let _ = write!(md, "| {m} |");
                        let mut pts = Vec::new();
                        for &e in &ctx.profile.iterative_eps {
                            let vals = eval_values(ctx, exp, m, &|a| match a {
                                AttackSpec::Bim { eps, .. } => is && eps_eq(*eps, e),
                                AttackSpec::Ill { eps, .. } => !is && eps_eq(*eps, e),
                                _ => false,
                            })?;
                            match summary(&vals) {
                                Some(s) => {
                                    let _ = write!(md, " {} |", fmt(&s));
                                    pts.push((e, s.mean, s.std));
                                }
                                None => {
                                    let _ = write!(md, " – |");
                                }
                            }
                        }
                        let _ = writeln!(md);
                        exp_json.insert(format!("{label}/{m}"), serde_json::json!(pts));
                        series.push(Series {
                            label: m.to_string(),
                            points: pts,
                            dashed: false,
                            color: PALETTE[k % PALETTE.len()],
                        });
                    }
                    let name = format!("{}-{}.svg", exp.id, label.to_lowercase());
                    write_atomic(
                        &figures.join(&name),
                        line_plot(&format!("{}: {label}, white box", exp.id), "ε", &series)
                            .as_bytes(),
                    )?;
                    let _ = writeln!(md, "\n![{label}](figures/{name})\n");
                }
                let _ = writeln!(md, "**Verdict:** {}.\n", verdict(&[], None));
            }
            Kind::Transfer { sources, targets } => {
                let srcs: Vec<&str> = sources.iter().copied().filter(|m| available(m)).collect();
                let tgts: Vec<&str> = targets.iter().copied().filter(|m| available(m)).collect();
                let mut acc: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
                for run in 0..ctx.profile.runs {
                    for job in transfers_of(sources, targets, run, ctx.profile, &data_sums(ctx))? {
                        if let Some(r) = job.load(ctx.cache) {
                            for (t, a) in r.accuracy {
                                acc.entry((job.source.model.clone(), t))
                                    .or_default()
                                    .push(100.0 * a);
                            }
                        }
                    }
                }
                let _ = writeln!(
                    md,
                    "FGSM, ε = {TRANSFER_EPS}, crafted on the row's model, evaluated on the column's (the diagonal is white box):\n"
                );
                let _ = write!(md, "| source \\ target |");
                for t in &tgts {
                    let _ = write!(md, " {t} |");
                }
                let _ = writeln!(md, "\n|---|{}", "---|".repeat(tgts.len()));
                let mut grid = Vec::new();
                let mut cells = Vec::new();
                let mut cmp = String::new();
                for s in &srcs {
                    let _ = write!(md, "| {s} |");
                    let mut row = Vec::new();
                    for t in &tgts {
                        match acc
                            .get(&(s.to_string(), t.to_string()))
                            .and_then(|v| summary(v))
                        {
                            Some(sm) => {
                                let _ = write!(md, " {} |", fmt(&sm));
                                row.push(Some(sm.mean));
                                if let (Some(ci), Some(tr)) = (
                                    transfer.sources.iter().position(|x| x == s),
                                    transfer.rows.iter().find(|r| r.target == *t),
                                ) {
                                    let c = Cell {
                                        ours: sm,
                                        thesis: (tr.mean[ci], tr.std[ci]),
                                    };
                                    let _ = writeln!(
                                        cmp,
                                        "| {s} | {t} | {} | {:.1} ± {:.1} | {:+.1} | {} |",
                                        fmt(&c.ours),
                                        tr.mean[ci],
                                        tr.std[ci],
                                        c.ours.mean - tr.mean[ci],
                                        if c.within() { "yes" } else { "no" }
                                    );
                                    cells.push(c);
                                }
                            }
                            None => {
                                let _ = write!(md, " – |");
                                row.push(None);
                            }
                        }
                    }
                    let _ = writeln!(md);
                    grid.push(row);
                }
                exp_json.insert(
                    "matrix".into(),
                    serde_json::json!({"sources": srcs, "targets": tgts, "mean": grid}),
                );
                if !cmp.is_empty() {
                    let _ = writeln!(
                        md,
                        "\nBeside the thesis ({}):\n\n| source | target | ours | thesis | difference | within 2σ |\n|---|---|---|---|---|---|\n{cmp}",
                        transfer.source
                    );
                }
                let name = format!("{}.svg", exp.id);
                let rows: Vec<String> = srcs.iter().map(|s| s.to_string()).collect();
                let cols: Vec<String> = tgts.iter().map(|s| s.to_string()).collect();
                write_atomic(
                    &figures.join(&name),
                    heat_map(
                        &format!("{}: transfer accuracy (%)", exp.id),
                        &rows,
                        &cols,
                        &grid,
                        "source",
                        "target",
                    )
                    .as_bytes(),
                )?;
                let _ = writeln!(
                    md,
                    "\n![{}](figures/{name})\n\n**Verdict:** {}.\n",
                    exp.id,
                    verdict(&cells, None)
                );
            }
            Kind::Adaptive => {
                let _ = writeln!(
                    md,
                    "Accuracy (%) over {} stochastic passes per image (mean over passes; majority vote in report.json), run 0{}. PGD uses EOT {} on stochastic models; Square {} queries.\n",
                    ctx.profile.repeats,
                    if ctx.profile.adaptive_runs > 1 {
                        format!("..{}", ctx.profile.adaptive_runs - 1)
                    } else {
                        String::new()
                    },
                    ctx.profile.eot,
                    ctx.profile.square_queries
                );
                let _ = write!(md, "| model | clean |");
                for e in &ctx.profile.adaptive_eps {
                    let _ = write!(md, " FGSM {e} | PGD {e} | Square {e} |");
                }
                let _ = writeln!(
                    md,
                    " flags |\n|---|---|{}---|",
                    "---|---|---|".repeat(ctx.profile.adaptive_eps.len())
                );
                let mut notes = Vec::new();
                for m in &models {
                    let job = TrainJob::new(m, 0, ctx.profile, &data_sums(ctx))?;
                    let clean = CleanJob {
                        version: RESULTS_VERSION,
                        model: job.clone(),
                        test_size: ctx.profile.adaptive_test,
                        repeats: ctx.profile.repeats,
                    }
                    .load(ctx.cache);
                    let _ = write!(
                        md,
                        "| {m} | {} |",
                        clean.as_ref().map_or("–".into(), |c| format!(
                            "{:.1}",
                            100.0 * c.repeated.summary.mean
                        ))
                    );
                    let mut flags = Vec::new();
                    if let Some(c) = &clean {
                        if c.repeated.unstable_fraction > 0.0 {
                            flags.push(format!(
                                "random ({:.1} % unstable)",
                                100.0 * c.repeated.unstable_fraction
                            ));
                        }
                        if c.zero_gradient_examples > 0.0 {
                            flags.push(format!(
                                "zero ∇ on {:.1} %",
                                100.0 * c.zero_gradient_examples
                            ));
                        }
                        if c.non_finite_gradients > 0 {
                            flags.push("non-finite ∇".into());
                        }
                    }
                    for &e in &ctx.profile.adaptive_eps {
                        let get =
                            |pick: &dyn Fn(&AttackSpec) -> bool| -> anyhow::Result<Option<f64>> {
                                Ok(summary(&eval_values(ctx, exp, m, pick)?).map(|s| s.mean))
                            };
                        let f = get(&|a| matches!(a, AttackSpec::Fgsm { eps } if eps_eq(*eps, e)))?;
                        let p =
                            get(&|a| matches!(a, AttackSpec::Pgd { eps, .. } if eps_eq(*eps, e)))?;
                        let s = get(
                            &|a| matches!(a, AttackSpec::Square { eps, .. } if eps_eq(*eps, e)),
                        )?;
                        let show =
                            |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
                        let _ = write!(md, " {} | {} | {} |", show(f), show(p), show(s));
                        let best_gradient = [f, p]
                            .into_iter()
                            .flatten()
                            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
                        if let (Some(g), Some(sq)) = (best_gradient, s) {
                            let n = ctx.profile.adaptive_test * ctx.profile.repeats.max(1);
                            if significantly_lower(
                                AttackAccuracy {
                                    accuracy: sq / 100.0,
                                    n,
                                },
                                AttackAccuracy {
                                    accuracy: g / 100.0,
                                    n,
                                },
                            ) {
                                flags.push(format!("Square beats gradients at ε {e}"));
                            }
                        }
                        exp_json.insert(
                            format!("{m}/{e}"),
                            serde_json::json!({"fgsm": f, "pgd": p, "square": s}),
                        );
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
                        "no gradient-free attack beat the gradient attacks by more than two standard errors".to_string()
                    } else {
                        notes.join("; ")
                    }
                );
            }
        }
        json.insert(exp.id.to_string(), serde_json::Value::Object(exp_json));
    }
    manifest(ctx, &mut md)?;
    let report = ctx.out.join("REPORT.md");
    write_atomic(&report, md.as_bytes())?;
    write_atomic(
        &ctx.out.join("report.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    Ok(report)
}

fn manifest(ctx: &ReportContext<'_>, md: &mut String) -> anyhow::Result<()> {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(ctx.root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        });
    let _ = writeln!(md, "## Manifest\n");
    let _ = writeln!(
        md,
        "- commit: `{commit}`; results version `{RESULTS_VERSION}`"
    );
    let _ = writeln!(md, "- machine: {}", super::jobs::machine());
    for line in ctx.profile.describe() {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(
        md,
        "- seeds: run r trains with seed r (initialization, batch order, stochastic units) and attacks with seed r"
    );
    for (file, sum) in ctx.data {
        let _ = writeln!(
            md,
            "- data: `{file}`, SHA-256 of its decompressed contents `{sum}`"
        );
    }
    // Wall time per stage, from the cached results.
    let mut train_s = 0.0;
    let mut trained = 0;
    if let Ok(entries) = std::fs::read_dir(ctx.cache.join("models")) {
        for e in entries.flatten() {
            if let Ok(t) = std::fs::read_to_string(e.path().join("done.json"))
                && let Ok(t) = serde_json::from_str::<TrainedModel>(&t)
            {
                train_s += t.seconds;
                trained += 1;
            }
        }
    }
    let stage = |dir: &str| -> (f64, usize) {
        let mut s = 0.0;
        let mut n = 0;
        if let Ok(entries) = std::fs::read_dir(ctx.cache.join(dir)) {
            for e in entries.flatten() {
                if let Ok(t) = std::fs::read_to_string(e.path())
                    && let Ok(v) = serde_json::from_str::<serde_json::Value>(&t)
                {
                    s += v["seconds"].as_f64().unwrap_or(0.0);
                    n += 1;
                }
            }
        }
        (s, n)
    };
    let (es, en) = stage("evals");
    let (ts, tn) = stage("transfer");
    let (cs, cn) = stage("clean");
    let _ = writeln!(
        md,
        "- wall time (all cached results of this profile): training {:.0} s ({trained} models), white-box evaluations {:.0} s ({en}), transfer {:.0} s ({tn}), clean passes and gradients {:.0} s ({cn})",
        train_s, es, ts, cs
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(mean: f64, std: f64, n: usize, thesis: (f64, f64)) -> Cell {
        Cell {
            ours: RunSummary {
                n,
                mean,
                std,
                min: mean,
                max: mean,
            },
            thesis,
        }
    }

    #[test]
    fn within_two_sigma_combines_both_deviations() {
        assert!(cell(90.0, 0.0, 1, (93.0, 1.5)).within()); // |3| ≤ 2·1.5
        assert!(!cell(90.0, 0.0, 1, (93.0, 1.4)).within());
        assert!(cell(90.0, 2.0, 3, (93.0, 0.1)).within()); // σ ≈ 2.0
    }

    #[test]
    fn verdicts_only_count() {
        let all = [
            cell(93.0, 1.0, 3, (93.1, 1.2)),
            cell(98.2, 0.1, 3, (98.3, 0.1)),
        ];
        assert!(verdict(&all, None).starts_with("within 2σ of the thesis: 2 of 2"));
        let none = [cell(20.0, 1.0, 3, (93.1, 1.2))];
        assert!(verdict(&none, None).starts_with("differs from the thesis: 0 of 1"));
        let some = [all[0].clone_cell(), none[0].clone_cell()];
        assert!(verdict(&some, None).starts_with("partly within 2σ of the thesis: 1 of 2"));
        assert_eq!(verdict(&[], None), "no thesis numbers to compare with");
        let same = verdict(
            &all,
            Some((vec!["a".into(), "b".into()], vec!["a".into(), "b".into()])),
        );
        assert!(same.ends_with("same ordering of models at ε = 0.3 (a > b)"));
        let differs = verdict(
            &all,
            Some((vec!["b".into(), "a".into()], vec!["a".into(), "b".into()])),
        );
        assert!(differs.contains("ordering at ε = 0.3 differs (ours: b > a; thesis: a > b)"));
    }

    impl Cell {
        fn clone_cell(&self) -> Cell {
            Cell {
                ours: self.ours,
                thesis: self.thesis,
            }
        }
    }
}
