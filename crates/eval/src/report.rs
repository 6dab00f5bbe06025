//! Report sections: the Markdown, figures (as data; the caller draws them)
//! and JSON an experiment writes, the comparison with the thesis's numbers,
//! and the verdict rules: one set of rules for every experiment.

use std::{collections::BTreeMap, fmt::Write};

use sgbn_metrics::RunSummary;

use crate::{Experiment, ReportContext, Result, available};

/// One line of a line plot: `(x, mean, std)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, mean, std)`; std draws an error bar when > 0.
    pub points: Vec<(f64, f64, f64)>,
    /// Dashed with hollow markers (the thesis's numbers).
    pub dashed: bool,
    /// Index into the drawing palette (series of one model share it).
    pub color: usize,
}

/// One small bar chart of a [`Figure::Bars`] grid: shares of examples per
/// bin.
#[derive(Debug, Clone, PartialEq)]
pub struct BarPanel {
    /// Its title (e.g. `p = 0.9, ε = 0.13`).
    pub title: String,
    /// Bin edges (one more than the bars).
    pub edges: Vec<f64>,
    /// Height of each bar, a share in [0, 1]; `None` when not computed.
    pub shares: Option<Vec<f64>>,
}

/// One grayscale image of a [`Figure::Images`] grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    /// Caption under it.
    pub caption: String,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major pixels, read as `scale` says.
    pub pixels: Vec<f32>,
    /// How pixel values map to colours.
    pub scale: PixelScale,
}

/// How a [`GrayImage`]'s values map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelScale {
    /// Intensities in [0, 1]: white (0) to black (1), as digits are drawn.
    Unit,
    /// Signed values (a perturbation): blue (−) through white (0) to red
    /// (+), full colour at the image's largest magnitude.
    Signed,
    /// Values in [−1, 1] on a fixed blue–white–red scale (e.g. `2σ − 1`).
    SignedUnit,
}

/// One panel of a [`Figure::Scatter`]: points coloured by class.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPanel {
    /// Its title.
    pub title: String,
    /// `(x, y, class)`.
    pub points: Vec<(f32, f32, u32)>,
}

/// A figure as data.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    /// Lines of mean ± std against x.
    Line {
        /// Title.
        title: String,
        /// Label of the x axis.
        x_label: String,
        /// Label of the y axis.
        y_label: String,
        /// Top of the y axis (its bottom is 0).
        y_max: f64,
        /// The lines.
        series: Vec<Series>,
    },
    /// A matrix of percentages.
    Heat {
        /// Title.
        title: String,
        /// Row names.
        rows: Vec<String>,
        /// Column names.
        cols: Vec<String>,
        /// `values[row][col]`, `None` where missing.
        values: Vec<Vec<Option<f64>>>,
        /// What the rows are.
        row_label: String,
        /// What the columns are.
        col_label: String,
    },
    /// A grid of bar charts (histograms), `cols` panels a row.
    Bars {
        /// Title.
        title: String,
        /// Label of every panel's x axis.
        x_label: String,
        /// Panels a row.
        cols: usize,
        /// The panels, row by row.
        panels: Vec<BarPanel>,
    },
    /// Scatter plots side by side, each scaled to its own points, coloured
    /// by class (t-SNE).
    Scatter {
        /// Title.
        title: String,
        /// The panels, left to right.
        panels: Vec<ScatterPanel>,
    },
    /// A grid of grayscale images, drawn as a PNG: one row of images per
    /// entry, labelled.
    Images {
        /// Title.
        title: String,
        /// `(row label, images)`.
        rows: Vec<(String, Vec<GrayImage>)>,
    },
}

impl Figure {
    /// The extension of the figure's file: `png` for images, `svg` for
    /// every drawing.
    pub fn extension(&self) -> &'static str {
        match self {
            Figure::Images { .. } => "png",
            _ => "svg",
        }
    }
}

/// What an experiment adds to the report.
#[derive(Debug, Default, Clone)]
pub struct Section {
    /// Markdown after the section's heading (which the report writes).
    pub markdown: String,
    /// Figures, by file name under `figures/`, linked from the Markdown.
    pub figures: Vec<(String, Figure)>,
    /// Every number of the section, for `report.json`.
    pub json: serde_json::Map<String, serde_json::Value>,
}

/// A comparison cell: ours against the thesis's `(mean, std)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Our mean ± std over runs.
    pub ours: RunSummary,
    /// The thesis's mean and std.
    pub thesis: (f64, f64),
}

impl Cell {
    /// Whether `|ours − thesis| ≤ 2σ`, σ = √(σ_thesis² + σ_ours²).
    pub fn within(&self) -> bool {
        let sigma = (self.thesis.1.powi(2) + self.ours.std.powi(2)).sqrt();
        (self.ours.mean - self.thesis.0).abs() <= 2.0 * sigma
    }
}

/// `mean ± std (n)`, or `mean (1)` for one run.
pub fn fmt_summary(s: &RunSummary) -> String {
    if s.n > 1 {
        format!("{:.1} ± {:.1} ({})", s.mean, s.std, s.n)
    } else {
        format!("{:.1} (1)", s.mean)
    }
}

/// The summary of the values, `None` when there are none.
pub fn summary(values: &[f64]) -> Option<RunSummary> {
    RunSummary::of(values).ok()
}

/// Ends a Markdown table's header row with one `ε = …` column per budget
/// and writes its separator line (the caller has written `| first |`).
pub fn eps_columns(md: &mut String, grid: &[f64]) {
    for e in grid {
        let _ = write!(md, " ε = {e} |");
    }
    let _ = writeln!(md, "\n|---|{}", "---|".repeat(grid.len()));
}

/// Budgets compared with a tolerance (grids are built in floating point).
pub fn eps_eq(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// The verdict line: it only counts cells within 2σ, and compares the
/// ordering of the models at ε = 0.3 when `ordering` gives ours and the
/// thesis's.
pub fn verdict(cells: &[Cell], ordering: Option<(Vec<String>, Vec<String>)>) -> String {
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

/// The report of several experiments, without the manifest (which says
/// where and how it ran: the caller's business).
#[derive(Debug, Default)]
pub struct AssembledReport {
    /// REPORT.md up to the manifest.
    pub markdown: String,
    /// Every figure, by file name.
    pub figures: Vec<(String, Figure)>,
    /// `report.json`: experiment id → its numbers.
    pub json: BTreeMap<String, serde_json::Value>,
}

/// The report of `experiments` from the finished results.
pub fn assemble(
    experiments: &[&dyn Experiment],
    ctx: &ReportContext<'_>,
) -> Result<AssembledReport> {
    let mut out = AssembledReport::default();
    let md = &mut out.markdown;
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
    // A smaller profile's report says what it cannot show, and what the
    // committed thesis-budget measurements found (never as its own cells).
    // Chapter 3 is left out: its networks train at the thesis's budget in
    // every profile but `smoke` (the profile's `ch3_*` sizes).
    let quoted = |id: &str| !crate::experiments::in_group("ch3", id);
    let notes = ctx
        .thesis_budget
        .filter(|_| !matches!(ctx.profile.name, "thesis-budget" | "full"))
        .filter(|_| experiments.iter().any(|e| quoted(e.id())));
    // The preamble describes the MNIST sizes: only where an MNIST chapter-4
    // experiment is selected (CIFAR-10 sections still get their line).
    let mnist = experiments
        .iter()
        .any(|e| quoted(e.id()) && !e.info().on_cifar10());
    if let Some(n) = notes.filter(|_| mnist) {
        write_budget_preamble(md, ctx.profile, n);
    }
    for exp in experiments {
        let missing: Vec<&str> = exp
            .models()
            .iter()
            .copied()
            .filter(|m| !available(m))
            .collect();
        let _ = writeln!(
            md,
            "## `{}`: {}\n\nThesis: {}.\n",
            exp.id(),
            exp.title(),
            exp.reference()
        );
        if !missing.is_empty() {
            let _ = writeln!(
                md,
                "Not built in sgbn yet, so not run: {}.\n",
                missing.join(", ")
            );
        }
        if let Some(n) = notes.filter(|_| quoted(exp.id())) {
            let _ = writeln!(md, "At the thesis's budget: {}\n", n.section(exp.id()));
        }
        let section = exp.report(ctx)?;
        md.push_str(&section.markdown);
        out.figures.extend(section.figures);
        out.json.insert(
            exp.id().to_string(),
            serde_json::Value::Object(section.json),
        );
    }
    Ok(out)
}

/// The opening of a smaller profile's report: what its budget can and
/// cannot show, and the thesis-budget headline from the committed notes.
fn write_budget_preamble(md: &mut String, p: &crate::Profile, n: &crate::ThesisBudgetNotes) {
    let images = p.train_size.map_or("all 60,000".into(), |k| format!("{k}"));
    let _ = writeln!(
        md,
        "## What the `{}` budget can and cannot show\n\n\
         This run trains each chapter-4 MNIST model on {images} images for at most {} epoch(s) and \
         tests on the first {} test images; the thesis trained up to 25 epochs on 55,000 images, \
         with the authors' code, and tested on all 10,000. At this budget most models are not \
         yet the thesis's (less accurate, less confident), so a cell here that differs from the \
         thesis is weak evidence either way: it checks that every experiment runs end to end and \
         how each model behaves early in training. What the thesis's budget shows is below, \
         quoted from `data/reference/thesis-budget.json` (measured {}, commit `{}`; {}); it is \
         not part of this run's numbers or of its `report.json`.\n",
        p.name,
        p.epochs,
        p.fgsm_test,
        n.measured,
        n.commit,
        n.sources.join(", "),
    );
    for line in &n.headline {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(
        md,
        "\nEach chapter-4 section below opens with one line on what the thesis-budget run found \
         for it (chapter 3 trains at the thesis's budget already).\n"
    );
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
        let some = [all[0], none[0]];
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

    #[test]
    fn summaries_print_n_and_one_run_without_a_std() {
        let s = summary(&[90.0, 92.0]).expect("two");
        assert_eq!(fmt_summary(&s), "91.0 ± 1.4 (2)");
        let one = summary(&[90.0]).expect("one");
        assert_eq!(fmt_summary(&one), "90.0 (1)");
        assert!(summary(&[]).is_none());
    }
}
