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
    write_atomic_parts(path, &[bytes])
}

/// [`write_atomic`] of the concatenation of `parts`, without building it in
/// memory (a large checkpoint's header and tensor bytes).
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
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
    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // tempfile's default mode is 0600; a result file gets what
    // `File::create` gives (0666 less the umask), as before.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    for part in parts {
        tmp.write_all(part).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
