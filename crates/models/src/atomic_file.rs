//! Writing files so that a crash never leaves a half-written one, and a
//! planted link never redirects the write.

use std::{io::Write, path::Path};

use crate::{ModelError, Result};

/// Writes `bytes` to `path` atomically: a fresh temporary file in the same
/// directory (created with a random name and `O_EXCL`, so it never follows
/// a link planted in its place), flushed to disk, then renamed over `path`.
/// An earlier file at `path` stays intact until the new one is complete.
/// When `path` itself is a symbolic link, the link is replaced by the new
/// file; its target is never written (docs/robustness.md).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // `tempfile` creates the file with `create_new` (O_CREAT | O_EXCL): a
    // name that exists, a link included, is never opened; the file is
    // removed when anything below fails.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
