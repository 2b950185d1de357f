//! Writing output files whole or not at all: the one atomic writer every report, guest file and
//! batch output goes through, with one permission policy.
//!
//! A file is written to a temporary file in the destination's directory, flushed to disk, and
//! renamed over the destination. A reader sees the old file or the new one, never half of one,
//! and a failure (a full disk, a crash, an error while producing the contents) leaves the
//! destination as it was and removes the temporary file.
//!
//! The policy: the new file gets the mode a plain `std::fs::write` would give it (`0o666` less
//! the process's umask), not the temporary file's private `0o600`, and whatever replaced the
//! destination had. The destination's directory must exist: it is not created.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file could not be written; the destination is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}", path.display())]
pub struct WriteError {
    /// The destination.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// A file being written: bytes go to a temporary file beside `path`; [`AtomicFile::commit`]
/// puts it in place. Dropped without a commit, it is removed and `path` is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: io::BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path`.
    ///
    /// # Errors
    ///
    /// [`WriteError`] when the temporary file cannot be created (a missing or read-only
    /// directory, a full disk).
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, WriteError> {
        let path = path.into();
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        let mut builder = tempfile::Builder::new();
        builder.prefix(".boundary-");
        // The mode `std::fs::write` gives a new file (the OS takes the umask off).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        match builder.tempfile_in(&dir) {
            Ok(temp) => Ok(Self {
                path,
                temp: io::BufWriter::new(temp),
            }),
            Err(source) => Err(WriteError {
                path,
                source: without_temporary_name(source),
            }),
        }
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the contents to disk and renames the temporary file over the destination.
    ///
    /// # Errors
    ///
    /// [`WriteError`] when flushing or renaming fails (a full disk, a destination that is a
    /// directory); the temporary file is removed and the destination is untouched.
    pub fn commit(self) -> Result<(), WriteError> {
        let Self { path, temp } = self;
        let temp = match temp.into_inner() {
            Ok(temp) => temp,
            Err(e) => {
                return Err(WriteError {
                    path,
                    source: e.into_error(),
                });
            }
        };
        if let Err(source) = temp.as_file().sync_all() {
            return Err(WriteError { path, source });
        }
        match temp.persist(&path) {
            Ok(_) => Ok(()),
            Err(e) => Err(WriteError {
                path,
                source: e.error,
            }),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// The operating system's error under one of tempfile's, which appends the random name of the
/// temporary file (`... at path "dir/.boundary-x7Yz"`): the user named the destination, which
/// [`WriteError`] already shows, and the temporary name was never created.
fn without_temporary_name(error: io::Error) -> io::Error {
    // tempfile keeps the system's error inside its own, out of reach but for its message.
    let text = error.to_string();
    match text.rfind(" at path \"") {
        Some(end) => io::Error::new(error.kind(), &text[..end]),
        None => error,
    }
}

/// Writes `contents` to `path` whole or not at all ([`AtomicFile`]).
///
/// # Errors
///
/// [`WriteError`] when the file cannot be written; `path` is untouched.
pub fn write_atomically(
    path: impl Into<PathBuf>,
    contents: impl AsRef<[u8]>,
) -> Result<(), WriteError> {
    let mut file = AtomicFile::create(path)?;
    if let Err(source) = file.write_all(contents.as_ref()) {
        return Err(WriteError {
            path: file.path.clone(),
            source,
        });
    }
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_with_an_ordinary_files_mode()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("report.md");
        std::fs::write(&path, "old")?;
        write_atomically(&path, "new")?;
        assert_eq!(std::fs::read_to_string(&path)?, "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let plain = dir.path().join("plain");
            std::fs::write(&plain, "x")?;
            let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode(&path)?, mode(&plain)?);
        }
        // Nothing but the two files is left behind.
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 2);
        Ok(())
    }

    #[test]
    fn an_uncommitted_file_leaves_the_destination_untouched()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.ndjson");
        std::fs::write(&path, "old")?;
        let mut file = AtomicFile::create(&path)?;
        file.write_all(b"half of it")?;
        drop(file);
        assert_eq!(std::fs::read_to_string(&path)?, "old");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn failures_name_the_destination_and_change_nothing() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("no-such-dir").join("report.md");
        let error = write_atomically(&missing, "x")
            .err()
            .ok_or("wrote into a missing directory")?;
        assert_eq!(error.path, missing);
        // The message names the destination and the system's reason, not the temporary file
        // that was never made.
        let message = format!("{error}: {}", error.source);
        assert!(!message.contains(".boundary-"), "{message}");
        assert!(message.contains("No such file or directory"), "{message}");
        // A directory cannot be replaced by a file.
        let error = write_atomically(dir.path(), "x")
            .err()
            .ok_or("replaced a directory")?;
        assert!(error.to_string().starts_with("cannot write "));
        assert!(dir.path().is_dir());
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }
}
