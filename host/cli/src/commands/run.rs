//! `boundary run`: transform one record on every selected path and print it as JSON.

use std::io::{self, IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use boundary_host::{Instance as _, SomeDataStruct};

use crate::commands::{LimitArgs, PathArgs, agreed_on_every_guest, block_on};
use crate::failure::Failure;

/// Flags of `boundary run` (its help is on `Command::Run` in `main.rs`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    paths: PathArgs,
    /// Also print, on stderr, each path's name and what crossed the boundary in its call.
    #[arg(long, short)]
    verbose: bool,
    /// A JSON file holding the record, or `-` for standard input.
    #[arg(value_name = "INPUT.json|-")]
    input: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Runs the command.
///
/// # Errors
///
/// [`Failure::Input`] for a guest file or input that cannot be read or is over a limit, and
/// [`Failure::Guest`] when a guest fails or the paths disagree.
pub fn execute(args: Args) -> Result<(), Failure> {
    let runtime = args.limits.runtime()?;
    let guests = args.paths.guests(&runtime)?;
    let record = read_input(args.input.as_deref(), runtime.limits().max_input_bytes)?;
    block_on(async {
        let output = agreed_on_every_guest(&guests, args.verbose, async |instance| {
            instance.transform(&record).await
        })
        .await?;
        let json = serde_json::to_string(&output)
            .context("cannot print the output")
            .map_err(Failure::Guest)?;
        println!("{json}");
        Ok(())
    })
}

/// Where the record comes from.
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

/// Reads the record for `run`. JSON longer than `max` bytes (`--max-input-bytes`; a record's
/// JSON is never shorter than what the ptr/len path copies in) is refused before parsing, after
/// reading at most `max + 1` bytes. Standard input piped in without `-` that turns out empty
/// (`< /dev/null`, a closed pipe) means no input: the example.
fn read_input(input: Option<&Path>, max: u32) -> Result<SomeDataStruct, Failure> {
    let source = Source::of(input);
    let (name, reader): (String, Box<dyn io::Read>) = match &source {
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
        return Err(over_input_limit(&name, max));
    }
    if bytes.is_empty() && matches!(source, Source::Stdin { explicit: false }) {
        return Ok(SomeDataStruct::example());
    }
    parse_record(&name, &bytes)
}

/// The refusal of a record's JSON longer than `max` bytes (`--max-input-bytes`), naming where it
/// came from (`what`: a file, standard input, a line): what `run` and `batch` say.
pub(crate) fn over_input_limit(what: &str, max: u32) -> Failure {
    Failure::input(format!(
        "{what}: the input is over the {max}-byte limit (--max-input-bytes)"
    ))
}

/// Parses a record `{"name": string, "names": [string]}` (no other fields) from its JSON, as
/// `run` and `batch` read it; `what` names where it came from in the error.
///
/// # Errors
///
/// [`Failure::Input`] when the bytes are not such a record.
pub(crate) fn parse_record(what: &str, bytes: &[u8]) -> Result<SomeDataStruct, Failure> {
    serde_json::from_slice(bytes)
        .with_context(|| {
            format!("{what} is not a record {{\"name\": string, \"names\": [string]}}")
        })
        .map_err(Failure::Input)
}
