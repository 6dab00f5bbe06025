//! Reading a file named by a user or found in a cache: only a regular file
//! is read, so a FIFO, a device or a directory at the name is refused at
//! once instead of blocking forever or reading without end
//! (docs/robustness.md).

use std::{io::Read, path::Path};

/// Reads the regular file at `path` (a link to one is followed) whole.
///
/// The file is opened without blocking (`O_NONBLOCK` on Unix: opening a
/// FIFO for reading otherwise waits for a writer) and its type checked on
/// the open handle, so nothing that is not a regular file is ever read; the
/// error then has kind [`std::io::ErrorKind::InvalidInput`] and says what
/// the name holds.
pub fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
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
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file",
                path.display(),
                kind_of(&meta)
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read_regular_file`] as UTF-8 text.
pub fn read_regular_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_regular_file(path)?).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not UTF-8 text ({e})", path.display()),
        )
    })
}

/// What a non-regular file is, in words.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_and_a_directory_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let f = tmp.path().join("a.bin");
        std::fs::write(&f, b"abc").expect("write");
        assert_eq!(read_regular_file(&f).expect("read"), b"abc");
        let e = read_regular_file(tmp.path()).expect_err("a directory");
        assert!(e.to_string().contains("is a directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let tmp = tempfile::tempdir().expect("tmp");
        let fifo = tmp.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        // Without O_NONBLOCK this open would wait for a writer forever.
        let e = read_regular_file(&fifo).expect_err("a FIFO");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
}
