//! Where CIFAR-10 comes from: the official binary files in the data
//! directory, or else the lossy JPEG stand-in's archive; never the one
//! mistaken for the other.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use crate::{Cifar10, DATA_DIR_ENV, DataError, Result, load_cifar10_binary, sha256_hex};

/// The order the stand-in's images are taken in, as it enters cache keys.
pub const CIFAR10_JPEG_ORDER: &str = "order: file name, then class";

/// Environment variable naming the stand-in archive `cifar10-jpeg.tar.gz`.
pub const CIFAR10_JPEG_ENV: &str = "SGBN_CIFAR10_JPEG";

/// Which CIFAR-10 was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cifar10Kind {
    /// The official binary version.
    Official,
    /// The lossy JPEG stand-in: **not CIFAR-10**; results on it are never
    /// compared with the thesis's.
    JpegStandIn,
}

impl Cifar10Kind {
    /// How reports name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Official => "CIFAR-10 (official binary version)",
            Self::JpegStandIn => "LOSSY JPEG STAND-IN, not CIFAR-10",
        }
    }
}

/// CIFAR-10 as loaded, with where it came from.
#[derive(Debug, Clone)]
pub struct Cifar10Data {
    /// The images.
    pub data: Cifar10,
    /// Official or the stand-in.
    pub kind: Cifar10Kind,
    /// The folder or archive read.
    pub source: PathBuf,
    /// SHA-256 of what was read (each binary file decompressed, or the
    /// archive and, as a last entry, [`CIFAR10_JPEG_ORDER`]: the order its
    /// images are taken in is part of what a model trained on its first k
    /// images saw), for cache keys.
    pub sha256: Vec<String>,
}

/// The stand-in archive beside the project (`../shared/data/` from the
/// workspace root), as seen from the source tree this crate was built from.
pub fn shared_cifar10_jpeg_archive() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    root.join("..")
        .join("shared")
        .join("data")
        .join(crate::CIFAR10_JPEG_ARCHIVE)
}

/// Loads CIFAR-10: the official binary files if `explicit` (a `--data-dir`)
/// or `$SGBN_DATA_DIR` holds them (`data_batch_1.bin` in it or in its
/// `cifar-10-batches-bin/`), else the stand-in archive named by
/// `$SGBN_CIFAR10_JPEG` or [`shared_cifar10_jpeg_archive`]; an error saying
/// where it looked when neither is there.
pub fn load_cifar10_for(explicit: Option<&Path>) -> Result<Cifar10Data> {
    load_cifar10_from(
        explicit,
        std::env::var_os(DATA_DIR_ENV),
        std::env::var_os(CIFAR10_JPEG_ENV),
    )
}

/// [`load_cifar10_for`] with the environment's values passed in.
pub fn load_cifar10_from(
    explicit: Option<&Path>,
    data_dir_env: Option<OsString>,
    archive_env: Option<OsString>,
) -> Result<Cifar10Data> {
    let dir = explicit
        .map(Path::to_path_buf)
        .or_else(|| data_dir_env.filter(|v| !v.is_empty()).map(PathBuf::from));
    let official = dir.as_ref().and_then(|d| {
        [d.clone(), d.join("cifar-10-batches-bin")]
            .into_iter()
            .find(|c| {
                c.join("data_batch_1.bin").is_file() || c.join("data_batch_1.bin.gz").is_file()
            })
    });
    if let Some(dir) = official {
        let data = load_cifar10_binary(&dir)?;
        let mut sha256 = Vec::new();
        for name in (1..=5)
            .map(|k| format!("data_batch_{k}.bin"))
            .chain(["test_batch.bin".to_string()])
        {
            let path = crate::raw_file::find_file(&dir, &[&name])?;
            sha256.push(sha256_hex(&crate::read_maybe_gz(&path)?));
        }
        return Ok(Cifar10Data {
            data,
            kind: Cifar10Kind::Official,
            source: dir,
            sha256,
        });
    }
    let archive = archive_env
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(shared_cifar10_jpeg_archive);
    if !archive.is_file() {
        return Err(DataError::MissingFile {
            path: archive.clone(),
            tried: format!(
                "the official binary files (data_batch_1.bin … test_batch.bin) in {}, and the \
                 lossy JPEG stand-in at {} (${CIFAR10_JPEG_ENV})",
                dir.map_or_else(
                    || format!("--data-dir (none given; ${DATA_DIR_ENV} unset)"),
                    |d| d.display().to_string()
                ),
                archive.display()
            ),
        });
    }
    let data = crate::load_cifar10_jpeg_archive(&archive)?;
    Ok(Cifar10Data {
        data,
        kind: Cifar10Kind::JpegStandIn,
        source: archive,
        sha256: vec![
            crate::CIFAR10_JPEG_ARCHIVE_SHA256.to_string(),
            CIFAR10_JPEG_ORDER.to_string(),
        ],
    })
}
