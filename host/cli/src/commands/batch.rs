//! `boundary batch`: transform a stream of records, one JSON record per line (NDJSON), through
//! one guest instance per worker thread, and write the results in input order. The pipeline is
//! the batch engine ([`boundary_host::batch`]); this is its flags, its files and its exit codes.

use std::path::PathBuf;

use boundary_host::batch::{GuestWorker, Options, run_pipeline};
use boundary_host::{AnyGuest, Runtime};

use crate::commands::{ALL_PATHS, LimitArgs, PathArgs};
use crate::failure::{Failure, FailureContext as _};
use crate::input::Input;
use crate::output::Output;
use crate::progress::Bar;

/// The most worker threads `--workers` accepts.
pub const MAX_WORKERS: u16 = 256;

/// Flags of `boundary batch` (its help is on `Command::Batch` in `main.rs`).
#[derive(Debug, clap::Args)]
#[command(mut_arg("path", |arg| arg.help(
    "The registered path to run [default: the first registered path; with --guest, the path \
     that runs that kind of guest]"
)))]
pub struct Args {
    #[command(flatten)]
    paths: PathArgs,
    /// Records, one JSON object per line; `-`, or none, for standard input.
    #[arg(value_name = "INPUT.ndjson|-")]
    input: Option<PathBuf>,
    /// Write the output to FILE, all or nothing: through a temporary file in FILE's directory,
    /// renamed over FILE once complete. Without it, the output goes to standard output as it is
    /// made.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Worker threads, each with its own guest instance [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_WORKERS)))]
    workers: Option<u16>,
    /// Report each bad line on stderr and go on; at the end print the counts. The exit code is
    /// still 2 if any line was bad input (1 if the only failures were the guest's).
    #[arg(long)]
    keep_going: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Runs the command.
///
/// # Errors
///
/// [`Failure::Input`] for bad flags, an input or output that cannot be opened, a bad line, or a
/// line the guest refuses; [`Failure::Guest`] when the guest fails on a line (traps, runs past a
/// limit) or cannot be instantiated.
pub fn execute(args: Args) -> Result<(), Failure> {
    let runtime = args.limits.uncounted_runtime()?;
    let guest = one_guest(&args.paths, &runtime)?;
    let input = Input::open(args.input.as_deref())?;
    let mut output = Output::open(args.output.as_deref())?;
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let instances = (0..workers)
        .map(|_| GuestWorker::new(&guest))
        .collect::<Result<Vec<_>, _>>()
        .context_of(format!("{} path", guest.name()))?;
    let options = Options::for_workers(workers, runtime.limits().max_input_bytes, args.keep_going);
    let mut bar = Bar::new(input.size);
    let summary = run_pipeline(input.reader, output.writer(), instances, options, &mut bar);
    bar.finish();
    // A failure here drops `output`: a temporary file is removed, FILE is left as it was.
    let summary = summary?;
    // With --keep-going, every good record is written out (to FILE too) even if lines failed.
    output.finish()?;
    if let Some(failure) = summary.failure() {
        // The error line carries the counts.
        return Err(failure.into());
    }
    if args.keep_going {
        eprintln!("{} ok, 0 bad", summary.ok);
    }
    Ok(())
}

/// The one guest `batch` runs: the one `--path` names, the one a `--guest` file selects, or
/// else the first registered path's default guest.
fn one_guest(paths: &PathArgs, runtime: &Runtime) -> Result<AnyGuest, Failure> {
    let registered = boundary_guests::paths();
    if paths.path.as_deref() == Some(ALL_PATHS) {
        let names: Vec<&str> = registered.iter().map(|p| p.name()).collect();
        return Err(Failure::input(format!(
            "--path {ALL_PATHS}: batch runs one path; name one of {}",
            names.join(", ")
        )));
    }
    let mut paths = paths.clone();
    if paths.path.is_none() && paths.guest.is_none() {
        let first = registered
            .first()
            .ok_or_else(|| Failure::input("no path is registered"))?;
        paths.path = Some(first.name().to_owned());
    }
    let mut guests = paths.guests(runtime)?;
    match guests.len() {
        1 => Ok(guests.remove(0)),
        n => Err(Failure::input(format!(
            "batch runs one path, but {n} were selected: name one with --path"
        ))),
    }
}
