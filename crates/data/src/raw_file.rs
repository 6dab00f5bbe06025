//! Reading a file that may be gzip-compressed.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use crate::{DataError, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads `path` whole; if it is gzip-compressed (by its magic bytes), returns
/// the decompressed contents.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataError::MissingFile {
                path: path.to_path_buf(),
                tried: path.display().to_string(),
            }
        } else {
            DataError::io(path, e)
        }
    })?;
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|source| DataError::Decompress {
                path: path.to_path_buf(),
                source,
            })?;
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
