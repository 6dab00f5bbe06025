//! What the committed thesis-budget measurements say, for the report of a
//! smaller profile (`data/reference/thesis-budget.json`).
//!
//! A `quick` run cannot train the thesis's models (2 epochs on 10,000
//! images, where the thesis trained up to 25 on 55,000), so most of its
//! cells differ from the thesis for a reason we already know. The report of
//! such a run says so at its top, and under every section it says what the
//! thesis-budget campaign found for that item, or that it has not run it
//! yet. Those lines are read from a committed file labelled with its dates
//! and commit, printed as they are, and never mixed into the run's own
//! cells or its `report.json`.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

use crate::{EvalError, Result};

/// The notes file, as `data/reference/thesis-budget.json` holds it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThesisBudgetNotes {
    /// When the measurements were made (dates, in words).
    pub measured: String,
    /// The commit whose code made them.
    pub commit: String,
    /// Where the measured reports and the ledger are (repository paths).
    pub sources: Vec<String>,
    /// The headline findings, one line each.
    pub headline: Vec<String>,
    /// Per experiment id: one line on what the thesis-budget run found.
    pub sections: BTreeMap<String, String>,
    /// The line for an experiment with no entry in [`Self::sections`].
    pub not_yet: String,
}

impl ThesisBudgetNotes {
    /// Reads and checks the notes file at `path`: every line non-empty, a
    /// commit of 7 to 40 hex digits, and at least one source.
    pub fn read(path: &Path) -> Result<Self> {
        let bad = |reason: String| EvalError::ThesisData {
            path: path.to_path_buf(),
            reason,
        };
        let text = sgbn_models::read_regular_text(path).map_err(|e| bad(e.to_string()))?;
        let notes: Self = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let hex = notes.commit.chars().all(|c| c.is_ascii_hexdigit());
        if !(7..=40).contains(&notes.commit.len()) || !hex {
            return Err(bad(format!(
                "commit {:?} is not 7 to 40 hex digits",
                notes.commit
            )));
        }
        let lines = notes
            .headline
            .iter()
            .chain(notes.sections.values())
            .chain([&notes.measured, &notes.not_yet]);
        if notes.sources.is_empty() || notes.headline.is_empty() {
            return Err(bad("no sources or no headline".into()));
        }
        if lines.into_iter().any(|l| l.trim().is_empty()) {
            return Err(bad("an empty line".into()));
        }
        Ok(notes)
    }

    /// The line for experiment `id`.
    pub fn section(&self, id: &str) -> &str {
        self.sections.get(id).unwrap_or(&self.not_yet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes_json(commit: &str, headline: &str, extra: &str) -> String {
        format!(
            r#"{{"measured": "2026-11-30", "commit": "{commit}", "sources": ["docs/x.md"],
               "headline": ["{headline}"], "sections": {{"table4.11": "4 of 4"}},
               "not_yet": "not yet"{extra}}}"#
        )
    }

    fn read(text: &str) -> Result<ThesisBudgetNotes> {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("notes.json");
        std::fs::write(&path, text).expect("write");
        ThesisBudgetNotes::read(&path)
    }

    #[test]
    fn a_good_file_reads_and_sections_fall_back_to_not_yet() {
        let n = read(&notes_json("19c3429", "SGBN reproduces", "")).expect("reads");
        assert_eq!(n.section("table4.11"), "4 of 4");
        assert_eq!(n.section("fig4.3"), "not yet");
    }

    #[test]
    fn a_bad_commit_an_empty_line_or_an_unknown_field_is_refused_naming_the_file() {
        for (text, why) in [
            (notes_json("main", "x", ""), "not 7 to 40 hex digits"),
            (notes_json("19c34", "x", ""), "not 7 to 40 hex digits"),
            (notes_json("19c3429", " ", ""), "an empty line"),
            (
                notes_json("19c3429", "x", r#", "headlines": []"#),
                "unknown field",
            ),
        ] {
            let err = read(&text).expect_err(why).to_string();
            assert!(err.contains("notes.json") && err.contains(why), "{err}");
        }
    }
}
