//! Where the commands read records from: `run`'s one record, read whole up to a cap, and
//! `batch`'s stream of lines, whose read errors name what it reads.

use std::io::{self, IsTerminal as _, Read};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use boundary_host::SomeDataStruct;
use boundary_host::batch::{RecordError, parse_record};

use crate::failure::Failure;

/// Where `run`'s record comes from.
enum Source {
    /// The seed's example.
    Example,
    /// Standard input; `explicit` when asked for with `-`, else piped in with no INPUT.
    Stdin { explicit: bool },
    /// A file.
    File(PathBuf),
}

impl Source {
    fn of(input: Option<&Path>) -> Self {
        match input {
            Some(path) if path == Path::new("-") => Self::Stdin { explicit: true },
            Some(path) => Self::File(path.to_owned()),
            None if !io::stdin().is_terminal() => Self::Stdin { explicit: false },
            None => Self::Example,
        }
    }
}

/// Reads the record for `run` from INPUT (`-`: standard input; none: standard input when it is
/// piped in, else the seed's example). JSON longer than `max` bytes (`--max-input-bytes`; a
/// record's JSON is never shorter than what the ptr/len path copies in) is refused before
/// parsing, after reading at most `max + 1` bytes. Standard input piped in without `-` that
/// turns out empty (`< /dev/null`, a closed pipe) means no input: the example.
///
/// # Errors
///
/// [`Failure::Input`] when the input cannot be read, is over `max`, or is not a record.
pub fn read_record(input: Option<&Path>, max: u32) -> Result<SomeDataStruct, Failure> {
    let source = Source::of(input);
    let (name, reader): (String, Box<dyn Read>) = match &source {
        Source::Example => return Ok(SomeDataStruct::example()),
        Source::Stdin { .. } => ("standard input".to_owned(), Box::new(io::stdin().lock())),
        Source::File(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map_err(Failure::Input)?;
            (path.display().to_string(), Box::new(file))
        }
    };
    let mut bytes = Vec::new();
    reader
        .take(u64::from(max) + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))
        .map_err(Failure::Input)?;
    if bytes.len() as u64 > u64::from(max) {
        return Err(RecordError::TooLong { what: name, max }.into());
    }
    if bytes.is_empty() && matches!(source, Source::Stdin { explicit: false }) {
        return Ok(SomeDataStruct::example());
    }
    Ok(parse_record(&name, &bytes)?)
}

/// Where `batch`'s lines come from.
pub struct Input {
    /// The bytes, whose read errors name the file or standard input.
    pub reader: Box<dyn Read + Send>,
    /// The file's size, for the progress bar, when it is a regular file.
    pub size: Option<u64>,
}

impl Input {
    /// Opens `path` (`-` or none: standard input). A directory is refused before reading;
    /// pipes and devices are read as streams.
    ///
    /// # Errors
    ///
    /// [`Failure::Input`] when the file cannot be opened or is a directory.
    pub fn open(path: Option<&Path>) -> Result<Self, Failure> {
        let path = match path {
            None => return Ok(Self::stdin()),
            Some(path) if path == Path::new("-") => return Ok(Self::stdin()),
            Some(path) => path,
        };
        let cannot = |e: io::Error| {
            Failure::Input(anyhow::Error::new(e).context(format!("cannot read {}", path.display())))
        };
        let file = std::fs::File::open(path).map_err(cannot)?;
        let metadata = file.metadata().map_err(cannot)?;
        if metadata.is_dir() {
            return Err(Failure::input(format!(
                "{} is a directory, not a file of records",
                path.display()
            )));
        }
        Ok(Self {
            size: metadata.is_file().then_some(metadata.len()),
            reader: Box::new(ReadNamed {
                inner: file,
                name: path.display().to_string(),
            }),
        })
    }

    fn stdin() -> Self {
        Self {
            reader: Box::new(ReadNamed {
                inner: io::stdin(),
                name: "standard input".to_owned(),
            }),
            size: None,
        }
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A reader whose errors name what it reads.
struct ReadNamed<R> {
    inner: R,
    name: String,
}

impl<R: Read> Read for ReadNamed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::new(e.kind(), format!("cannot read {}: {e}", self.name))
            }
        })
    }
}
