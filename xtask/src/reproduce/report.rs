//! The files of the report: `results/<profile>/REPORT.md`, `report.json`
//! (`REPORT-<ids>.md`, `report-<ids>.json` for a selection with `--only`,
//! so that a partial run never replaces the default set's report)
//! and `figures/*.svg` / `*.png`, from the sections the experiments write
//! ([`sgbn_eval::assemble`]), plus a manifest of where and how it ran.

use sgbn_eval::Results;
use std::{fmt::Write, path::Path};

use candle_core::Device;
use sgbn_eval::{Experiment, Profile, RESULTS_VERSION, ReportContext, ThesisBudgetNotes, assemble};
use sgbn_models::write_atomic;

use super::cache::Cache;
use sgbn_eval::draw;

/// The committed notes of the thesis-budget measurements, from the
/// repository root (docs/reproduction.md, "Report").
pub const THESIS_BUDGET_NOTES: &str = "data/reference/thesis-budget.json";

/// What to do when the new report would hold fewer results than the one
/// it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FewerResults {
    /// Keep the old files and fail, saying how many results each has.
    Refuse,
    /// Replace them and say so in a warning.
    Warn,
}

/// Numbers in a report JSON (the results it holds, with the thesis's).
fn numbers_in(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Number(_) => 1,
        serde_json::Value::Array(a) => a.iter().map(numbers_in).sum(),
        serde_json::Value::Object(m) => m.values().map(numbers_in).sum(),
        _ => 0,
    }
}

/// Everything the report files need.
pub struct ReportFiles<'a> {
    /// The plan of the selection (for the runs found in the cache).
    pub plan: &'a sgbn_eval::Plan,
    /// What to do when the new report holds fewer results.
    pub fewer: FewerResults,
    pub profile: &'a Profile,
    pub experiments: &'a [&'static dyn Experiment],
    pub cache: &'a Cache,
    pub out: &'a Path,
    /// (file, SHA-256) of each data file.
    pub data: &'a [(String, String)],
    /// CIFAR-10, where the selection used it.
    pub cifar: Option<&'a sgbn_eval::CifarInputs>,
    pub root: &'a Path,
    /// The `--only` selection (empty: the default set).
    pub only: &'a [String],
}

/// The stem of the report's files: `REPORT` / `report` for the default
/// set, `REPORT-ch3` / `report-ch3` for `--only ch3` (ids joined by `+`).
pub fn stems(only: &[String]) -> (String, String) {
    if only.is_empty() {
        return ("REPORT".into(), "report".into());
    }
    let joined = only.join("+");
    // A long selection is named by its first id, how many more, and a hash
    // of the whole list (file names stay short and distinct).
    let joined = if joined.len() > 40 {
        let hash = sgbn_eval::key_hash(&only).unwrap_or_default();
        format!(
            "{}+{}-more-{}",
            only[0],
            only.len() - 1,
            &hash[..8.min(hash.len())]
        )
    } else {
        joined
    };
    let tag = crate::output::safe_file_name(&joined, "+.-_");
    (format!("REPORT-{tag}"), format!("report-{tag}"))
}

/// Writes the report; returns the path of REPORT.md.
pub fn write(ctx: &ReportFiles<'_>) -> anyhow::Result<std::path::PathBuf> {
    let figures = ctx.out.join("figures");
    crate::output::create_own_dir(&figures)?;
    let sums: Vec<String> = ctx.data.iter().map(|(_, s)| s.clone()).collect();
    // What the committed thesis-budget measurements found, quoted in a
    // smaller profile's report; a damaged file is an error naming it.
    let notes_path = ctx.root.join(THESIS_BUDGET_NOTES);
    let notes = if notes_path.exists() {
        Some(ThesisBudgetNotes::read(&notes_path)?)
    } else {
        tracing::warn!(path = %notes_path.display(), "no thesis-budget notes: the report does not quote them");
        None
    };
    let report = assemble(
        ctx.experiments,
        &ReportContext {
            profile: ctx.profile,
            data: &sums,
            cifar: ctx.cifar,
            results: ctx.cache,
            thesis_dir: &ctx.root.join("data/thesis"),
            thesis_budget: notes.as_ref(),
        },
    )?;
    let (md_stem, json_stem) = stems(ctx.only);
    let json_path = ctx.out.join(format!("{json_stem}.json"));
    if let Some(old) = sgbn_models::read_regular_text(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    {
        let now: usize = report.json.values().map(numbers_in).sum();
        let before = numbers_in(&old);
        if now < before {
            match ctx.fewer {
                FewerResults::Refuse => anyhow::bail!(
                    "the new report would hold {now} numbers, the existing {} holds {before}: \
                     kept the existing report (the cache has lost results, or this is another \
                     selection); pass --allow-fewer to replace it",
                    json_path.display()
                ),
                FewerResults::Warn => tracing::warn!(
                    path = %json_path.display(), before, now,
                    "the new report holds fewer numbers than the one it replaces"
                ),
            }
        }
    }
    for (name, figure) in &report.figures {
        let bytes = match draw::png_images(figure)? {
            Some(png) => png,
            None => draw::svg(figure)
                .map(String::into_bytes)
                .ok_or_else(|| anyhow::anyhow!("figure {name}: neither a drawing nor images"))?,
        };
        write_atomic(&figures.join(name), &bytes)?;
    }
    let mut md = report.markdown;
    manifest(ctx, &mut md)?;
    let path = ctx.out.join(format!("{md_stem}.md"));
    write_atomic(&path, md.as_bytes())?;
    write_atomic(
        &json_path,
        serde_json::to_string_pretty(&report.json)?.as_bytes(),
    )?;
    Ok(path)
}

/// The CPU the run happened on, for the manifest.
fn machine() -> String {
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

/// The runs the cache holds against those the profile asks for: the
/// profile's line says what was asked, this one what the report used.
fn runs_found(ctx: &ReportFiles<'_>) -> String {
    let trains = &ctx.plan.trains;
    let done = trains.iter().filter(|t| ctx.cache.is_trained(t)).count();
    let mut missing: Vec<String> = trains
        .iter()
        .filter(|t| !ctx.cache.is_trained(t))
        .map(|t| format!("{} run {}", t.model, t.run))
        .collect();
    if missing.is_empty() {
        return format!(
            "training runs in the cache: all {} of the plan",
            trains.len()
        );
    }
    let more = missing.len().saturating_sub(12);
    missing.truncate(12);
    format!(
        "training runs in the cache: {done} of the {} the plan asks for; missing: {}{} \
         (means and spreads are over the runs found)",
        trains.len(),
        missing.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

fn manifest(ctx: &ReportFiles<'_>, md: &mut String) -> anyhow::Result<()> {
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
    let _ = writeln!(md, "- machine: {}", machine());
    for line in ctx.profile.describe() {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(md, "- {}", runs_found(ctx));
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
    if let Some(c) = ctx.cifar {
        let _ = writeln!(
            md,
            "- CIFAR-10 data: {}, identified by {}",
            if c.stand_in {
                "**LOSSY JPEG STAND-IN, not CIFAR-10** (`cifar10-jpeg.tar.gz`; nothing computed on it is compared with the thesis)"
            } else {
                "the official binary version (`data_batch_1..5.bin`, `test_batch.bin`)"
            },
            c.sha256
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // Wall time per stage, from the selection's cached results.
    let mut train_s = 0.0;
    let mut trained = 0;
    for t in ctx.plan.trains.iter().filter_map(|t| ctx.cache.trained(t)) {
        train_s += t.seconds;
        trained += 1;
    }
    let mut stages: Vec<(&str, f64, usize)> = Vec::new();
    for p in &ctx.plan.work {
        let Some(v) = ctx.cache.stored(p.work.as_ref(), &p.key) else {
            continue;
        };
        let secs = v["seconds"].as_f64().unwrap_or(0.0);
        match stages.iter_mut().find(|(noun, ..)| *noun == p.work.noun()) {
            Some((_, s, n)) => {
                *s += secs;
                *n += 1;
            }
            None => stages.push((p.work.noun(), secs, 1)),
        }
    }
    // A training resumed from its epoch checkpoint records the time of its
    // last process only (`TrainedModel::seconds`), so the sum is a floor.
    let _ = writeln!(
        md,
        "- wall time (this selection's cached results; units run in parallel processes are summed): training at least {train_s:.0} s ({trained} models; a run resumed across processes counts its last process only){}",
        stages
            .iter()
            .map(|(noun, s, n)| format!(", {noun} {s:.0} s ({n})"))
            .collect::<String>()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_thesis_budget_notes_read_and_name_every_experiment_they_quote() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let notes = ThesisBudgetNotes::read(&root.join(THESIS_BUDGET_NOTES)).expect("notes");
        for id in notes.sections.keys() {
            assert!(
                sgbn_eval::experiments::find(id).is_ok(),
                "{THESIS_BUDGET_NOTES} quotes {id}, which is no experiment"
            );
        }
        for source in &notes.sources {
            let file = source.split(' ').next().expect("path");
            assert!(root.join(file).is_file(), "{source} is not a file");
        }
    }

    #[test]
    fn a_selection_writes_its_own_report_files() {
        assert_eq!(stems(&[]), ("REPORT".into(), "report".into()));
        let only = ["ch3".to_string(), "fig4.3".to_string()];
        assert_eq!(
            stems(&only),
            ("REPORT-ch3+fig4.3".into(), "report-ch3+fig4.3".into())
        );
        assert_eq!(stems(&["a/b".to_string()]).0, "REPORT-a_b");
        let many: Vec<String> = (1..=12).map(|i| format!("fig4.{i}")).collect();
        let (md, _) = stems(&many);
        assert!(
            md.starts_with("REPORT-fig4.1+11-more-") && md.len() < 40,
            "{md}"
        );
        let mut other = many.clone();
        other.swap(3, 4);
        assert_ne!(stems(&other).0, md, "another selection, another name");
    }
}
