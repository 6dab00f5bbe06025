//! SHA-256 verification of data files.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

use crate::{DataError, Result};

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails with [`DataError::ChecksumMismatch`] naming `path` unless `bytes`
/// hash to `expected` (hex, case-insensitive).
pub fn verify_sha256(path: &Path, bytes: &[u8], expected: &str) -> Result<()> {
    let found = sha256_hex(bytes);
    if found.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(DataError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: expected.to_ascii_lowercase(),
            found,
        })
    }
}

/// The contents of a `SHA256SUMS` file (`sha256sum` format: a hex digest, two
/// spaces or a space and `*`, a file name). Digests are of the decompressed
/// contents; a name matches its file with or without `.gz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Sums {
    path: PathBuf,
    sums: BTreeMap<String, String>,
}

impl Sha256Sums {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = String::from_utf8(
            crate::raw_file::read_regular(path).map_err(|e| DataError::io(path, e))?,
        )
        .map_err(|e| {
            DataError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        Self::parse(path, &text)
    }

    /// Parses the contents `text` of a `SHA256SUMS` file; `path` names it
    /// in errors (and is where it is said to come from).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let mut sums = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || DataError::BadChecksumFile {
                path: path.to_path_buf(),
                line: i + 1,
            };
            let (hash, name) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
            let name = name.trim_start().trim_start_matches('*');
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
                return Err(bad());
            }
            sums.insert(name.to_string(), hash.to_ascii_lowercase());
        }
        Ok(Self {
            path: path.to_path_buf(),
            sums,
        })
    }

    /// The digest listed for the file at `file` (matched by file name, with
    /// or without `.gz`).
    pub fn get(&self, file: &Path) -> Option<&str> {
        let name = file.file_name()?.to_str()?;
        self.sums
            .get(name)
            .or_else(|| self.sums.get(name.strip_suffix(".gz")?))
            .map(String::as_str)
    }

    /// Where the sums were read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
