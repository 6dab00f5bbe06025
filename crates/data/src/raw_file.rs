//! Reading a file that may be gzip-compressed.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use crate::{DataError, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most a gzip file may decompress to: 1 GiB, twenty times MNIST's
/// largest file (47 MB) and thirty times a CIFAR-10 batch.
pub const MAX_DECOMPRESSED: usize = 1 << 30;

/// Reads `path` whole; if it is gzip-compressed (by its magic bytes), returns
/// the decompressed contents.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_regular(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataError::MissingFile {
                path: path.to_path_buf(),
                tried: path.display().to_string(),
            }
        } else {
            DataError::io(path, e)
        }
    })?;
    maybe_gunzip(path, bytes)
}

/// Reads the regular file at `path` whole (a link to one is followed),
/// refusing anything else (a FIFO, a device, a directory) with an error of
/// kind [`std::io::ErrorKind::InvalidInput`] that says what it is. The file
/// is opened with `O_NONBLOCK` on Unix and checked on the open handle, so a
/// FIFO never blocks the read. (`sgbn_models::read_regular_file` is the
/// same rule; neither crate depends on the other.)
pub(crate) fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory, not a data file"
        } else {
            "not a regular file (a FIFO, a socket or a device?)"
        };
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is {what}", path.display()),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `bytes` decompressed when they are a gzip stream (by their magic
/// bytes), else themselves; `path` names the file in errors.
pub fn maybe_gunzip(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(MAX_DECOMPRESSED));
        let decompress = |source| DataError::Decompress {
            path: path.to_path_buf(),
            source,
        };
        // A few kilobytes of gzip can expand to gigabytes: stop one byte
        // past the bound instead of exhausting memory.
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(MAX_DECOMPRESSED as u64 + 1)
            .read_to_end(&mut out)
            .map_err(decompress)?;
        if out.len() > MAX_DECOMPRESSED {
            return Err(decompress(std::io::Error::other(format!(
                "decompresses to more than {} MiB, more than any data set this crate reads",
                MAX_DECOMPRESSED >> 20
            ))));
        }
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// The first of `names` (each also tried with a `.gz` suffix) that exists in
/// `dir`, or a [`DataError::MissingFile`] listing every name tried.
pub fn find_file(dir: &Path, names: &[&str]) -> Result<PathBuf> {
    let mut tried = Vec::new();
    for name in names {
        for candidate in [name.to_string(), format!("{name}.gz")] {
            let path = dir.join(&candidate);
            if path.is_file() {
                return Ok(path);
            }
            if let Ok(meta) = std::fs::metadata(&path) {
                let kind = if meta.is_dir() {
                    "a directory"
                } else {
                    "a special file (device, socket or pipe)"
                };
                return Err(DataError::NotAFile { path, kind });
            }
            tried.push(path);
        }
    }
    Err(DataError::MissingFile {
        path: tried[0].clone(),
        tried: tried
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}
