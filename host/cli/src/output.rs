//! Where `batch` writes: standard output as the records are made, or `-o FILE`, all or nothing
//! through the one atomic writer ([`boundary_schema::fs::AtomicFile`]).

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context as _;
use boundary_schema::fs::AtomicFile;

use crate::failure::Failure;

/// Where the output goes: standard output as it is made, or a temporary file next to `-o FILE`
/// that replaces FILE once the run is complete (and is removed otherwise).
#[derive(Debug)]
pub enum Output {
    /// Standard output, buffered.
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    /// `-o FILE`.
    File(AtomicFile),
}

impl Output {
    /// Opens the output. For `-o FILE`, the temporary file is created now, so that a missing or
    /// read-only directory is refused before any record is read.
    ///
    /// # Errors
    ///
    /// [`Failure::Input`] when FILE is a directory or its temporary file cannot be created.
    pub fn open(path: Option<&Path>) -> Result<Self, Failure> {
        let Some(path) = path else {
            return Ok(Self::Stdout(io::BufWriter::with_capacity(
                1 << 16,
                io::stdout().lock(),
            )));
        };
        if path.is_dir() {
            return Err(Failure::input(format!(
                "cannot write {}: it is a directory",
                path.display()
            )));
        }
        let file = AtomicFile::create(path).map_err(|e| Failure::Input(e.into()))?;
        Ok(Self::File(file))
    }

    /// Where the records go.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::Stdout(out) => out,
            Self::File(file) => file,
        }
    }

    /// Flushes standard output, or renames the complete temporary file over FILE. Dropped
    /// without it, a temporary file is removed and FILE is left as it was.
    ///
    /// # Errors
    ///
    /// [`Failure::Input`] when the output cannot be written.
    pub fn finish(self) -> Result<(), Failure> {
        match self {
            Self::Stdout(mut out) => out
                .flush()
                .context("cannot write standard output")
                .map_err(Failure::Input),
            Self::File(file) => file.commit().map_err(|e| Failure::Input(e.into())),
        }
    }
}
