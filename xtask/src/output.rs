//! Where commands write: the `--out` folder, checked before any work and
//! removed again when a run fails, and file names made safe from ids.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// `name` with every character outside ASCII letters, digits and `allowed`
/// replaced by `_`: a file name from an experiment id or a unit's label.
pub fn safe_file_name(name: &str, allowed: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || allowed.contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Creates `--out` (and its missing parents) and checks that a file can be
/// written there; returns the folders it created, outermost first, so a
/// failed run can remove them again.
pub fn prepare_out_dir(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    let mut at = Some(out);
    while let Some(dir) = at {
        if dir.as_os_str().is_empty() || dir.exists() {
            break;
        }
        created.push(dir.to_path_buf());
        at = dir.parent();
    }
    created.reverse();
    if out.exists() && !out.is_dir() {
        anyhow::bail!("--out {} exists and is not a directory", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating --out {}", out.display()))?;
    let probe = tempfile::Builder::new()
        .prefix(".write-check-")
        .tempfile_in(out)
        .with_context(|| format!("--out {} is not writable", out.display()));
    if let Err(e) = probe {
        remove_created(&created);
        return Err(e);
    }
    Ok(created)
}

/// Removes the folders `prepare_out_dir` created, innermost first, where
/// they are still empty.
pub fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        // `remove_dir` only removes an empty folder: results stay.
        let _ = std::fs::remove_dir(dir);
    }
}

/// Creates the folder `dir` that a command makes inside its `--out`
/// (`figures/`, `cache/claims/`), refusing a symbolic link at its name:
/// the tool never makes one there, so a link was planted and would send
/// the files elsewhere (`--out` itself may be a link; docs/robustness.md).
pub fn create_own_dir(dir: &Path) -> anyhow::Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(dir)
        && m.file_type().is_symlink()
    {
        anyhow::bail!(
            "{} is a symbolic link: this folder is made by the tool, so the link was put there \
             by hand and would send its files elsewhere; remove it (or point --out at the real \
             folder) and run again",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_at_an_own_folder_is_refused_and_its_target_left_alone() {
        let tmp = tempfile::tempdir().expect("tmp");
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).expect("elsewhere");
        let figures = tmp.path().join("out/figures");
        std::fs::create_dir(tmp.path().join("out")).expect("out");
        std::os::unix::fs::symlink(&elsewhere, &figures).expect("link");
        let e = create_own_dir(&figures).expect_err("a planted link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_dir(&elsewhere).expect("ls").count(), 0);
        let fresh = tmp.path().join("out/claims");
        create_own_dir(&fresh).expect("a new folder");
        assert!(fresh.is_dir());
    }
}
