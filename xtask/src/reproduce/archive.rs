//! `cargo xtask archive save|restore`: the finished results of a cache
//! (every unit's JSON and every training run's `done.json`; never a
//! checkpoint or a claim) as gzip files in a folder that git can carry, and
//! back. A long campaign runs on machines that are not handed on: its
//! results survive in the repository, and a new machine resumes from them
//! (docs/campaign.md). A restored training run has no checkpoint: its
//! results serve every report, and a unit that needs the model itself says
//! so (delete the run's folder to retrain it).

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use flate2::{Compression, GzBuilder, read::GzDecoder};
use sgbn_eval::check_cached_result;

use super::cache::{Cache, key_of};

/// Arguments of `cargo xtask archive`.
#[derive(Debug, clap::Args)]
pub struct ArchiveArgs {
    /// `save` (cache → archive) or `restore` (archive → cache).
    #[arg(value_enum)]
    direction: Direction,
    /// The output folder of the runs (`reproduce --out`; its `cache/`).
    #[arg(long)]
    out: PathBuf,
    /// The archive folder (e.g. `docs/measured/cache/thesis-budget`).
    #[arg(long)]
    archive: PathBuf,
}

/// Which way the results go.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Direction {
    /// Every finished result of the cache that the archive lacks or holds
    /// otherwise, gzipped into it.
    Save,
    /// Every archived result that the cache lacks, unpacked into it.
    Restore,
}

/// The finished results under `root`, relative to it, in name order: the
/// `*.json` of every folder but `models/` (training runs: their
/// `done.json` only) and `claims/`.
fn results(root: &Path, suffix: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root) else {
        return Ok(found);
    };
    for dir in dirs {
        let dir = dir?;
        let name = dir.file_name().to_string_lossy().into_owned();
        if !dir.file_type()?.is_dir() || name == "claims" || name == "audit" {
            continue;
        }
        for entry in std::fs::read_dir(dir.path())? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if name == "models" && kind.is_dir() {
                let done = entry.path().join(format!("done.json{suffix}"));
                if std::fs::symlink_metadata(&done).is_ok_and(|m| m.is_file()) {
                    found.push(Path::new(&name).join(&file).join("done.json"));
                }
            } else if name != "models"
                && kind.is_file()
                && file.ends_with(&format!(".json{suffix}"))
            {
                found.push(Path::new(&name).join(file.trim_end_matches(suffix)));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `text` gzipped with no name and no time in its header, so the same
/// result gives the same bytes.
fn gzip(text: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut enc = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    enc.write_all(text)?;
    Ok(enc.finish()?)
}

fn gunzip(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = sgbn_models::read_regular_file(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut text = Vec::new();
    GzDecoder::new(&bytes[..])
        .read_to_end(&mut text)
        .with_context(|| format!("{} is not gzip", path.display()))?;
    Ok(text)
}

/// Whether `text` is a result that the file `rel` may hold: JSON that
/// passes [`check_cached_result`] under the key of its name.
fn check(rel: &Path, text: &[u8]) -> anyhow::Result<()> {
    let value: serde_json::Value =
        serde_json::from_slice(text).with_context(|| format!("{} is not JSON", rel.display()))?;
    check_cached_result(&value, &key_of(rel))
        .map_err(|reason| anyhow::anyhow!("{}: {reason}", rel.display()))
}

pub fn archive(args: &ArchiveArgs) -> anyhow::Result<()> {
    let cache_root = args.out.join("cache");
    // A mistyped folder would otherwise save or restore nothing, silently.
    let from = match args.direction {
        Direction::Save => &cache_root,
        Direction::Restore => &args.archive,
    };
    anyhow::ensure!(
        from.is_dir(),
        "{} is not a folder: nothing to {} (check --out / --archive)",
        from.display(),
        match args.direction {
            Direction::Save => "save",
            Direction::Restore => "restore",
        }
    );
    match args.direction {
        Direction::Save => {
            let archive = Cache::open(&args.archive, candle_core::Device::Cpu)?;
            let (mut written, mut kept) = (0, 0);
            for rel in results(&cache_root, "")? {
                let text = sgbn_models::read_regular_file(&cache_root.join(&rel))
                    .with_context(|| format!("reading {}", cache_root.join(&rel).display()))?;
                check(&rel, &text)?;
                let to = args.archive.join(format!("{}.gz", rel.display()));
                if to.exists() && gunzip(&to)? == text {
                    kept += 1;
                    continue;
                }
                archive.check_no_links(&to)?;
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                sgbn_models::write_atomic(&to, &gzip(&text)?)?;
                written += 1;
            }
            println!(
                "archive {}: {written} results written, {kept} already there",
                args.archive.display()
            );
        }
        Direction::Restore => {
            let cache = Cache::open(&cache_root, candle_core::Device::Cpu)?;
            let (mut restored, mut present) = (0, 0);
            for rel in results(&args.archive, ".gz")? {
                let to = cache_root.join(&rel);
                if to.exists() {
                    present += 1;
                    continue;
                }
                let text = gunzip(&args.archive.join(format!("{}.gz", rel.display())))?;
                check(&rel, &text)?;
                cache.check_no_links(&to)?;
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                sgbn_models::write_atomic(&to, &text)?;
                restored += 1;
            }
            println!(
                "cache {}: {restored} results restored, {present} already there",
                cache_root.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_restore_gives_the_same_results_and_never_a_checkpoint() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let out = tmp.path().join("run");
        let cache = out.join("cache");
        let model = cache.join("models/cnn-run0-00aa");
        std::fs::create_dir_all(&model)?;
        std::fs::write(model.join("checkpoint.safetensors"), b"weights")?;
        std::fs::write(
            model.join("done.json"),
            br#"{"cache_key":"00aa","epochs":3}"#,
        )?;
        std::fs::create_dir_all(cache.join("evals"))?;
        std::fs::write(
            cache.join("evals/cnn-run0-11bb.json"),
            br#"{"cache_key":"11bb","accuracy":0.5}"#,
        )?;
        std::fs::create_dir_all(cache.join("claims"))?;
        std::fs::write(cache.join("claims/eval-22cc.claim"), b"host 1")?;
        let arch = tmp.path().join("archive");
        let run = |direction, out: &Path| {
            archive(&ArchiveArgs {
                direction,
                out: out.to_path_buf(),
                archive: arch.clone(),
            })
        };
        run(Direction::Save, &out)?;
        let first = std::fs::read(arch.join("evals/cnn-run0-11bb.json.gz"))?;
        run(Direction::Save, &out)?;
        assert_eq!(
            std::fs::read(arch.join("evals/cnn-run0-11bb.json.gz"))?,
            first,
            "the same result gives the same bytes"
        );
        assert!(!arch.join("claims").exists());
        assert!(
            !arch
                .join("models/cnn-run0-00aa/checkpoint.safetensors.gz")
                .exists()
        );

        let fresh = tmp.path().join("fresh");
        run(Direction::Restore, &fresh)?;
        let c = fresh.join("cache");
        assert_eq!(
            std::fs::read(c.join("evals/cnn-run0-11bb.json"))?,
            std::fs::read(cache.join("evals/cnn-run0-11bb.json"))?
        );
        assert!(c.join("models/cnn-run0-00aa/done.json").is_file());
        assert!(
            !c.join("models/cnn-run0-00aa/checkpoint.safetensors")
                .exists()
        );

        // A folder that is not there is named, not taken for an empty one.
        let err = run(Direction::Save, &tmp.path().join("no-such-run")).expect_err("no cache");
        assert!(format!("{err:#}").contains("no-such-run"), "{err:#}");

        // A result stored under another key's name is refused, naming it.
        let bad = arch.join("evals/cnn-run0-33dd.json.gz");
        std::fs::write(&bad, gzip(br#"{"cache_key":"11bb","accuracy":0.5}"#)?)?;
        let err = run(Direction::Restore, &fresh).expect_err("refused");
        assert!(format!("{err:#}").contains("cnn-run0-33dd.json"), "{err:#}");
        assert!(!c.join("evals/cnn-run0-33dd.json").exists());
        Ok(())
    }
}
