//! `boundary batch`: transform a stream of records, one JSON record per line (NDJSON), through
//! one guest instance per worker thread, and write the results in input order.
//!
//! The pipeline ([`run_pipeline`]) has three stages:
//!
//! 1. a reader thread splits the input into lines, holding at most the line cap
//!    (`--max-input-bytes`) of any one line: a longer line is a bad line, and its bytes past the
//!    cap are never kept;
//! 2. worker threads, each owning one [`Transform`] (one guest instance), parse, transform and
//!    print records;
//! 3. the calling thread puts the results back in input order and writes them.
//!
//! A fixed number of tickets ([`Options::window`]) bounds the records in flight, read but not yet
//! written: the reader takes a ticket before it hands a line on, and the writer gives it back
//! once that line's result is out. Whatever the input's length, at most `window` lines (each at
//! most the line cap) are in the channels, the workers and the reorder buffer together.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, IsTerminal as _, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, anyhow};
use boundary_host::path::block_on;
use boundary_host::{AnyGuest, AnyInstance, CallError, Guest as _, Instance as _, SomeDataStruct};
use indicatif::{ProgressBar, ProgressStyle};

use crate::commands::run::{over_input_limit, parse_record};
use crate::commands::{ALL_PATHS, LimitArgs, PathArgs};
use crate::failure::{Failure, FailureContext as _};

/// The most worker threads `--workers` accepts.
pub const MAX_WORKERS: u16 = 256;

/// Records in flight per worker: read, being transformed, or waiting to be written in order.
pub const WINDOW_PER_WORKER: usize = 4;

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
        .map(|_| GuestWorker::new(guest.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let bar = progress_bar(input.size);
    let options = Options {
        max_line_bytes: runtime.limits().max_input_bytes,
        keep_going: args.keep_going,
        window: workers.saturating_mul(WINDOW_PER_WORKER),
    };
    let report = |failure: &Failure| bar.suspend(|| eprintln!("{}", failure.line()));
    let summary = run_pipeline(
        input.reader,
        output.writer(),
        instances,
        options,
        report,
        &bar,
    );
    bar.finish_and_clear();
    // A failure here drops `output`: a temporary file is removed, FILE is left as it was.
    let summary = summary?;
    // With --keep-going, every good record is written out (to FILE too) even if lines failed.
    output.finish()?;
    match summary.failure() {
        // The error line carries the counts.
        Some(failure) => Err(failure),
        None => {
            if args.keep_going {
                eprintln!("{} ok, 0 bad", summary.ok);
            }
            Ok(())
        }
    }
}

/// The one guest `batch` runs: the one `--path` names, the one a `--guest` file selects, or
/// else the first registered path's default guest.
fn one_guest(paths: &PathArgs, runtime: &boundary_host::Runtime) -> Result<AnyGuest, Failure> {
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

/// Where the records come from.
struct Input {
    reader: Box<dyn Read + Send>,
    /// The file's size, for the progress bar, when it is a regular file.
    size: Option<u64>,
}

impl Input {
    /// Opens `path` (`-` or none: standard input). A directory is refused before reading;
    /// pipes and devices are read as streams.
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
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

/// Where the output goes: standard output as it is made, or a temporary file next to `-o FILE`
/// that replaces FILE once the run is complete (and is removed otherwise).
enum Output {
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    File {
        temp: io::BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
}

impl Output {
    /// Opens the output. For `-o FILE`, the temporary file is created now, so that a missing or
    /// read-only directory is refused before any record is read.
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
        let Some(path) = path else {
            return Ok(Self::Stdout(io::BufWriter::with_capacity(
                1 << 16,
                io::stdout().lock(),
            )));
        };
        let cannot = |e: io::Error| {
            Failure::Input(
                anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
            )
        };
        if path.is_dir() {
            return Err(Failure::input(format!(
                "cannot write {}: it is a directory",
                path.display()
            )));
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = tempfile::Builder::new();
        builder.prefix(".boundary-batch-");
        // The mode `std::fs::write` gives a new file (less the umask), not the temporary file's 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(dir).map_err(cannot)?;
        Ok(Self::File {
            temp: io::BufWriter::with_capacity(1 << 16, temp),
            path: path.to_owned(),
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::Stdout(out) => out,
            Self::File { temp, .. } => temp,
        }
    }

    /// Flushes standard output, or renames the complete temporary file over FILE.
    fn finish(self) -> Result<(), Failure> {
        match self {
            Self::Stdout(mut out) => out
                .flush()
                .context("cannot write standard output")
                .map_err(Failure::Input),
            Self::File { temp, path } => {
                let cannot = |e: io::Error| {
                    Failure::Input(
                        anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
                    )
                };
                let file = temp.into_inner().map_err(|e| cannot(e.into_error()))?;
                file.as_file().sync_all().map_err(cannot)?;
                file.persist(&path).map_err(|e| cannot(e.error))?;
                Ok(())
            }
        }
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise: bytes read against the
/// file's size when it is known, and records written.
fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match size {
        Some(len) => (
            ProgressBar::new(len),
            "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes}  {msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {elapsed_precise} {bytes} read  {msg}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Transforms one record: what each worker thread owns.
pub trait Transform: Send + 'static {
    /// Transforms `record`.
    ///
    /// # Errors
    ///
    /// A [`Failure`] classified as `boundary run` would (2 for the record, 1 for the guest),
    /// except that a record the guest refuses through its contract is bad input.
    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, Failure>;
}

/// Native Rust's transform: the baseline the guests are compared with.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeWorker;

impl Transform for NativeWorker {
    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, Failure> {
        Ok(boundary_host::native_transform(record))
    }
}

/// One instance of a guest, replaced by a fresh one after an error that leaves it unusable.
#[derive(Debug)]
pub struct GuestWorker {
    guest: AnyGuest,
    instance: Option<AnyInstance>,
}

impl GuestWorker {
    /// Instantiates `guest` for one worker.
    ///
    /// # Errors
    ///
    /// The instantiation's failure, naming the path.
    pub fn new(guest: AnyGuest) -> Result<Self, Failure> {
        let instance =
            block_on(guest.instantiate()).context_of(format!("{} path", guest.name()))?;
        Ok(Self {
            guest,
            instance: Some(instance),
        })
    }
}

impl Transform for GuestWorker {
    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, Failure> {
        let what = || format!("{} path", self.guest.name());
        let instance = match &mut self.instance {
            Some(instance) => instance,
            None => self
                .instance
                .insert(block_on(self.guest.instantiate()).context_of(what())?),
        };
        match block_on(instance.transform(&record)) {
            Ok(called) => Ok(called.value),
            Err(error) => {
                if !instance.is_reusable_after(&error) {
                    self.instance = None;
                }
                Err(call_failure(error)).context_of(what())
            }
        }
    }
}

/// A failed call as `batch` classifies it: as everywhere ([`Failure`]'s `From`), except that a
/// record the guest refuses through its contract is bad input (exit 2), as `serve` answers it
/// with a 4xx.
fn call_failure(error: CallError) -> Failure {
    if matches!(error, CallError::Guest(_)) {
        Failure::Input(anyhow::Error::new(error))
    } else {
        error.into()
    }
}

/// How [`run_pipeline`] runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The longest line, in bytes, without its newline: a longer one is a bad line.
    pub max_line_bytes: u32,
    /// Go on past bad lines, reporting each.
    pub keep_going: bool,
    /// The most records in flight at once (at least 1).
    pub window: usize,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Records transformed and written.
    pub ok: u64,
    /// Lines that failed as bad input.
    pub bad: u64,
    /// Lines on which the guest failed.
    pub guest_failed: u64,
}

impl Summary {
    /// Lines that failed, for any reason.
    pub fn failed(&self) -> u64 {
        self.bad + self.guest_failed
    }

    /// The failure a `--keep-going` run ends with: none when every line was good; bad input
    /// (exit 2) when any line was bad; a guest failure (exit 1) when the guest's were the only
    /// ones.
    pub fn failure(&self) -> Option<Failure> {
        let message = || {
            format!(
                "{} of {} lines failed ({} ok, {} bad)",
                self.failed(),
                self.ok + self.failed(),
                self.ok,
                self.failed()
            )
        };
        if self.bad > 0 {
            Some(Failure::Input(anyhow!(message())))
        } else if self.guest_failed > 0 {
            Some(Failure::Guest(anyhow!(message())))
        } else {
            None
        }
    }
}

/// A line as the reader hands it on.
enum Payload {
    /// The line's bytes, without the newline.
    Line(Vec<u8>),
    /// The line is longer than the cap; its bytes were not kept.
    TooLong,
    /// Reading failed: the run stops here.
    ReadError(io::Error),
}

struct Job {
    seq: u64,
    line: u64,
    payload: Payload,
}

/// A line's result.
enum Outcome {
    /// The transformed record's JSON and a newline.
    Done(Vec<u8>),
    /// The line failed: bad input or the guest's failure.
    Failed(Failure),
    /// The run cannot go on, even with `--keep-going`.
    Fatal(Failure),
}

struct Done {
    seq: u64,
    outcome: Outcome,
}

/// Runs `input`'s lines through `workers` (one thread each) and writes the results to `output`
/// in input order, one JSON record per line. Blank lines are skipped (they are still counted in
/// line numbers, which start at 1). `report` is called, in input order, with each failed line
/// when `keep_going` is set; `progress` gets the bytes read and the records written.
///
/// Without `keep_going`, the first failed line (in input order) stops the run; what came before
/// it has been written. On any error the threads are told to stop and are not waited for: a
/// reader blocked on a slow input ends with the process.
///
/// # Errors
///
/// The first failed line's [`Failure`] (without `keep_going`), or a read or write failure.
/// With `keep_going`, failed lines are counted in the [`Summary`] instead.
///
/// # Panics
///
/// If `workers` is empty.
pub fn run_pipeline<T: Transform>(
    input: Box<dyn Read + Send>,
    output: &mut dyn Write,
    workers: Vec<T>,
    options: Options,
    mut report: impl FnMut(&Failure),
    progress: &ProgressBar,
) -> Result<Summary, Failure> {
    assert!(!workers.is_empty(), "run_pipeline needs a worker");
    let window = options.window.max(1);
    let stop = Arc::new(AtomicBool::new(false));
    let (ticket_tx, ticket_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        ticket_tx
            .try_send(())
            .map_err(|_| Failure::guest("cannot set up the batch pipeline"))?;
    }
    let (job_tx, job_rx) = sync_channel::<Job>(window);
    let (done_tx, done_rx) = sync_channel::<Done>(window);
    let mut threads = Vec::new();
    let reader = Reader {
        input: BufReader::with_capacity(1 << 16, input),
        max_line_bytes: usize::try_from(options.max_line_bytes).unwrap_or(usize::MAX),
        keep_going: options.keep_going,
        stop: Arc::clone(&stop),
        progress: progress.clone(),
    };
    threads.push(spawn("boundary-batch-reader", move || {
        reader.run(&ticket_rx, &job_tx);
    })?);
    let job_rx = Arc::new(Mutex::new(job_rx));
    for (index, mut worker) in workers.into_iter().enumerate() {
        let jobs = Arc::clone(&job_rx);
        let done = done_tx.clone();
        let stop = Arc::clone(&stop);
        let max = options.max_line_bytes;
        threads.push(spawn(&format!("boundary-batch-{index}"), move || {
            work(&mut worker, &jobs, &done, &stop, max);
        })?);
    }
    drop(done_tx);
    let result = write_in_order(
        &done_rx,
        &ticket_tx,
        output,
        options.keep_going,
        &mut report,
        progress,
    );
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
        return result;
    }
    for thread in threads {
        if thread.join().is_err() {
            return Err(Failure::guest("a batch thread panicked"));
        }
    }
    result
}

/// Spawns a named thread.
fn spawn(
    name: &str,
    run: impl FnOnce() + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, Failure> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(run)
        .context("cannot start a batch thread")
        .map_err(Failure::Guest)
}

/// The calling thread's part: results back in input order, out to `output`, a ticket returned
/// for each.
fn write_in_order(
    done_rx: &Receiver<Done>,
    tickets: &SyncSender<()>,
    output: &mut dyn Write,
    keep_going: bool,
    report: &mut impl FnMut(&Failure),
    progress: &ProgressBar,
) -> Result<Summary, Failure> {
    let mut window = Reorder::new();
    let mut summary = Summary::default();
    for done in done_rx {
        window.insert(done.seq, done.outcome);
        while let Some(outcome) = window.pop_next() {
            match outcome {
                Outcome::Done(json) => {
                    output
                        .write_all(&json)
                        .context("cannot write the output")
                        .map_err(Failure::Input)?;
                    summary.ok += 1;
                    progress.set_message(format!("{} records", summary.ok));
                }
                Outcome::Failed(failure) if keep_going => {
                    report(&failure);
                    match failure {
                        Failure::Input(_) => summary.bad += 1,
                        Failure::Guest(_) => summary.guest_failed += 1,
                    }
                }
                Outcome::Failed(failure) | Outcome::Fatal(failure) => return Err(failure),
            }
            // The line is done: its ticket goes back. Never blocks, since there are never
            // more tickets out than the channel holds.
            let _ = tickets.try_send(());
        }
    }
    if !window.is_empty() {
        return Err(Failure::guest(
            "a batch worker stopped before its records were done",
        ));
    }
    Ok(summary)
}

/// Results that came back out of order, held until every earlier one is out. The tickets bound
/// how many it can hold: at most the window, less those still being read or transformed.
#[derive(Debug)]
pub struct Reorder<T> {
    next: u64,
    pending: BTreeMap<u64, T>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Reorder<T> {
    /// An empty buffer expecting sequence number 0.
    pub fn new() -> Self {
        Self {
            next: 0,
            pending: BTreeMap::new(),
        }
    }

    /// Holds the result with sequence number `seq`.
    pub fn insert(&mut self, seq: u64, value: T) {
        self.pending.insert(seq, value);
    }

    /// The next result in order, if it has come back.
    pub fn pop_next(&mut self) -> Option<T> {
        let value = self.pending.remove(&self.next)?;
        self.next += 1;
        Some(value)
    }

    /// How many results are held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// A worker thread: jobs in, outcomes out, until the jobs end or the run stops.
fn work<T: Transform>(
    worker: &mut T,
    jobs: &Mutex<Receiver<Job>>,
    done: &SyncSender<Done>,
    stop: &AtomicBool,
    max_line_bytes: u32,
) {
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(Job { seq, line, payload }) = job else {
            return;
        };
        let what = format!("line {line}");
        let outcome = match payload {
            Payload::Line(bytes) => transform_line(worker, &what, &bytes),
            Payload::TooLong => Outcome::Failed(over_input_limit(&what, max_line_bytes)),
            Payload::ReadError(error) => Outcome::Fatal(Failure::Input(error.into())),
        };
        if done.send(Done { seq, outcome }).is_err() {
            return;
        }
    }
}

/// Parses, transforms and prints one line.
fn transform_line<T: Transform>(worker: &mut T, what: &str, bytes: &[u8]) -> Outcome {
    let record = match parse_record(what, bytes) {
        Ok(record) => record,
        Err(failure) => return Outcome::Failed(failure),
    };
    let output = match worker.transform(record).context_of(what) {
        Ok(output) => output,
        Err(failure) => return Outcome::Failed(failure),
    };
    let mut json = Vec::new();
    match serde_json::to_writer(&mut json, &output) {
        Ok(()) => {
            json.push(b'\n');
            Outcome::Done(json)
        }
        Err(e) => Outcome::Fatal(Failure::Guest(
            anyhow::Error::new(e).context(format!("{what}: cannot print the output")),
        )),
    }
}

/// The reader thread's state.
struct Reader {
    input: BufReader<Box<dyn Read + Send>>,
    max_line_bytes: usize,
    keep_going: bool,
    stop: Arc<AtomicBool>,
    progress: ProgressBar,
}

impl Reader {
    /// Hands each non-blank line on, once it holds a ticket, until the input ends, a read
    /// fails, the run stops, or (without `keep_going`) a line is over the cap.
    fn run(mut self, tickets: &Receiver<()>, jobs: &SyncSender<Job>) {
        let mut line_number = 0u64;
        let mut seq = 0u64;
        let mut consumed = 0u64;
        loop {
            if self.stop.load(Ordering::Relaxed) || tickets.recv().is_err() {
                return;
            }
            let (line, read) = loop {
                let mut line = Vec::new();
                let read = read_line(
                    &mut self.input,
                    self.max_line_bytes,
                    !self.keep_going,
                    &mut line,
                    &mut consumed,
                );
                match read {
                    Ok(Line::Complete) if line.iter().all(u8::is_ascii_whitespace) => {
                        line_number += 1;
                    }
                    read => break (line, read),
                }
            };
            line_number += 1;
            self.progress.set_position(consumed);
            let (payload, last) = match read {
                Ok(Line::End) => return,
                Ok(Line::Complete) => (Payload::Line(line), false),
                Ok(Line::TooLong) => (Payload::TooLong, !self.keep_going),
                Err(error) => (Payload::ReadError(error), true),
            };
            let job = Job {
                seq,
                line: line_number,
                payload,
            };
            seq += 1;
            if jobs.send(job).is_err() || last {
                return;
            }
        }
    }
}

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// A line (the last one may lack its newline).
    Complete,
    /// A line longer than the cap: its bytes were not kept.
    TooLong,
    /// The end of the input, with no line before it.
    End,
}

/// Reads the next line into `line` (cleared first), without its `\n`, keeping at most `cap`
/// bytes of it. A longer line is [`Line::TooLong`]: its kept bytes are dropped and, with
/// `stop_at_cap`, reading stops at the cap (the rest of the line is left unread); otherwise the
/// rest of the line is read and thrown away, so that the next call starts on the next line.
/// `consumed` grows by the bytes read.
///
/// # Errors
///
/// The input's read error.
pub fn read_line(
    input: &mut impl BufRead,
    cap: usize,
    stop_at_cap: bool,
    line: &mut Vec<u8>,
    consumed: &mut u64,
) -> io::Result<Line> {
    line.clear();
    let mut any = false;
    let mut too_long = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        any = true;
        let newline = buf.iter().position(|&b| b == b'\n');
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        if !too_long {
            if line.len() + chunk.len() > cap {
                too_long = true;
                line.clear();
                if stop_at_cap {
                    return Ok(Line::TooLong);
                }
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        input.consume(used);
        *consumed += used as u64;
        if newline.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::{Condvar, Mutex};

    fn lines(input: &[u8], cap: usize, stop_at_cap: bool) -> Vec<(Line, String)> {
        // A tiny buffer, so that lines span many `fill_buf` calls.
        let mut reader = BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        let mut consumed = 0;
        loop {
            let mut line = Vec::new();
            let read = read_line(&mut reader, cap, stop_at_cap, &mut line, &mut consumed).unwrap();
            if read == Line::End {
                break;
            }
            out.push((read, String::from_utf8(line).unwrap()));
            if read == Line::TooLong && stop_at_cap {
                break;
            }
        }
        out
    }

    #[test]
    fn lines_are_split_and_capped_without_keeping_the_excess() {
        let got = lines(b"ab\n\nabcdef\nabcd\nxyz", 4, false);
        assert_eq!(
            got,
            [
                (Line::Complete, "ab".to_owned()),
                (Line::Complete, String::new()),
                (Line::TooLong, String::new()),
                (Line::Complete, "abcd".to_owned()),
                (Line::Complete, "xyz".to_owned()),
            ]
        );
        assert_eq!(lines(b"", 4, false), []);
        assert_eq!(
            lines(b"abcdefgh", 4, false),
            [(Line::TooLong, String::new())]
        );
    }

    #[test]
    fn stopping_at_the_cap_reads_no_further() {
        let input = b"abcdefgh\nok\n";
        let mut reader = BufReader::with_capacity(2, &input[..]);
        let mut line = Vec::new();
        let mut consumed = 0;
        let read = read_line(&mut reader, 4, true, &mut line, &mut consumed).unwrap();
        assert_eq!(read, Line::TooLong);
        assert!(consumed <= 4, "read {consumed} bytes of a line capped at 4");
    }

    #[test]
    fn the_reorder_buffer_gives_results_back_in_order() {
        let mut reorder = Reorder::new();
        reorder.insert(2, "c");
        reorder.insert(1, "b");
        assert_eq!(reorder.pop_next(), None);
        assert_eq!(reorder.len(), 2);
        reorder.insert(0, "a");
        assert_eq!(reorder.pop_next(), Some("a"));
        assert_eq!(reorder.pop_next(), Some("b"));
        assert_eq!(reorder.pop_next(), Some("c"));
        assert!(reorder.is_empty());
    }

    /// Counts records in flight (handed to a worker, not yet written) and holds every record
    /// of line 1 until as many records as the window allows are in flight, so that the others
    /// pile up behind it.
    #[derive(Clone)]
    struct Gated {
        shared: Arc<GateState>,
    }

    struct GateState {
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
        started: Mutex<usize>,
        changed: Condvar,
        open_at: usize,
    }

    impl Transform for Gated {
        fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, Failure> {
            let state = &self.shared;
            let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            state.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let mut started = state.started.lock().unwrap();
            *started += 1;
            state.changed.notify_all();
            if record.name == "0" {
                // Line 1 waits until the others have filled what the other workers can take.
                while *started < state.open_at {
                    started = state.changed.wait(started).unwrap();
                }
            }
            Ok(boundary_host::native_transform(record))
        }
    }

    /// Counts written records out of the in-flight counter.
    struct Counting<'a> {
        out: Vec<u8>,
        state: &'a GateState,
    }

    impl Write for Counting<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let records = buf.iter().filter(|&&b| b == b'\n').count();
            self.state.in_flight.fetch_sub(records, Ordering::SeqCst);
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn ndjson(count: usize) -> Vec<u8> {
        let mut input = Vec::new();
        for i in 0..count {
            input.extend_from_slice(format!(r#"{{"name":"{i}","names":["x"]}}"#).as_bytes());
            input.push(b'\n');
        }
        input
    }

    #[test]
    fn records_in_flight_never_exceed_the_window_and_come_out_in_order() {
        let workers = 4;
        let window = 8;
        let state = Arc::new(GateState {
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            started: Mutex::new(0),
            changed: Condvar::new(),
            // Line 1 is held until every other worker has started a record and the records
            // behind line 1 have filled the window.
            open_at: window,
        });
        let gated = Gated {
            shared: Arc::clone(&state),
        };
        let count = 500;
        let mut out = Counting {
            out: Vec::new(),
            state: &state,
        };
        let summary = run_pipeline(
            Box::new(io::Cursor::new(ndjson(count))),
            &mut out,
            vec![gated; workers],
            Options {
                max_line_bytes: 1 << 10,
                keep_going: false,
                window,
            },
            |_| unreachable!("no line fails"),
            &ProgressBar::hidden(),
        )
        .unwrap();
        assert_eq!(summary.ok, count as u64);
        let max = state.max_in_flight.load(Ordering::SeqCst);
        assert_eq!(max, window, "the window was not filled, or was overrun");
        let names: Vec<String> = String::from_utf8(out.out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<SomeDataStruct>(l).unwrap().name)
            .collect();
        let expected: Vec<String> = (0..count).map(|i| i.to_string()).collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn the_first_bad_line_stops_the_run_and_keep_going_counts_them() {
        let input = b"{\"name\":\"a\",\"names\":[]}\n\n{\"name\":1}\nnot json\n{\"name\":\"b\",\"names\":[]}\n";
        let run = |keep_going| {
            let mut out = Vec::new();
            let mut reported = Vec::new();
            let result = run_pipeline(
                Box::new(io::Cursor::new(input.to_vec())),
                &mut out,
                vec![NativeWorker; 3],
                Options {
                    max_line_bytes: 1 << 10,
                    keep_going,
                    window: 6,
                },
                |failure: &Failure| reported.push(failure.line()),
                &ProgressBar::hidden(),
            );
            (result, String::from_utf8(out).unwrap(), reported)
        };
        let (result, _, reported) = run(false);
        let failure = result.unwrap_err();
        assert_eq!(failure.exit_code(), 2);
        assert!(
            failure.line().starts_with("line 3 is not a record"),
            "{}",
            failure.line()
        );
        assert!(reported.is_empty());

        let (result, out, reported) = run(true);
        let summary = result.unwrap();
        assert_eq!((summary.ok, summary.bad), (2, 2));
        assert_eq!(out.lines().count(), 2);
        assert!(reported[0].starts_with("line 3 "), "{reported:?}");
        assert!(reported[1].starts_with("line 4 "), "{reported:?}");
        assert_eq!(summary.failure().unwrap().exit_code(), 2);
    }
}
