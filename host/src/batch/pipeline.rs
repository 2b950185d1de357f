//! [`run_pipeline`]: the reader, worker and writer stages, and the tickets that bound the records
//! in flight between them.

use std::io::{BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use super::lines::{Job, Payload, Reader};
use super::{
    BatchError, LineError, Options, Progress, RecordError, Reorder, Summary, Transform,
    parse_record,
};

/// A line's result.
enum Outcome {
    /// The transformed record's JSON and a newline.
    Done(Vec<u8>),
    /// The line failed: bad input or the guest's failure.
    Failed(LineError),
    /// The run cannot go on, even with `keep_going`.
    Fatal(BatchError),
}

struct Done {
    seq: u64,
    outcome: Outcome,
}

/// Runs `input`'s lines through `workers` (one thread each) and writes the results to `output`
/// in input order, one JSON record per line. Blank lines are skipped (they are still counted in
/// line numbers, which start at 1). `progress` hears the bytes read, the records written and,
/// with [`Options::keep_going`], each failed line, in input order.
///
/// Without `keep_going`, the first failed line (in input order) stops the run; what came before
/// it has been written. On any error the threads are told to stop and are not waited for: a
/// reader blocked on a slow input ends with the process.
///
/// # Errors
///
/// The first failed line's [`BatchError::Line`] (without `keep_going`), or a read, write or
/// thread failure. With `keep_going`, failed lines are counted in the [`Summary`] instead
/// ([`Summary::failure`]).
///
/// # Panics
///
/// If `workers` is empty.
pub fn run_pipeline<T: Transform>(
    input: impl Read + Send + 'static,
    mut output: impl Write,
    workers: Vec<T>,
    options: Options,
    mut progress: impl Progress,
) -> Result<Summary, BatchError> {
    assert!(!workers.is_empty(), "run_pipeline needs a worker");
    let window = options.window.max(1);
    let stop = Arc::new(AtomicBool::new(false));
    let consumed = Arc::new(AtomicU64::new(0));
    let (ticket_tx, ticket_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        ticket_tx.try_send(()).map_err(|_| BatchError::Setup)?;
    }
    let (job_tx, job_rx) = sync_channel::<Job>(window);
    let (done_tx, done_rx) = sync_channel::<Done>(window);
    let mut threads = Vec::new();
    let reader = Reader {
        input: BufReader::with_capacity(1 << 16, input),
        max_line_bytes: usize::try_from(options.max_line_bytes).unwrap_or(usize::MAX),
        keep_going: options.keep_going,
        stop: Arc::clone(&stop),
        consumed: Arc::clone(&consumed),
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
    let writer = Writer {
        tickets: &ticket_tx,
        keep_going: options.keep_going,
        consumed: &consumed,
    };
    let result = writer.run(&done_rx, &mut output, &mut progress);
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
        return result;
    }
    for thread in threads {
        if thread.join().is_err() {
            return Err(BatchError::Panicked);
        }
    }
    result
}

/// Spawns a named thread.
fn spawn(
    name: &str,
    run: impl FnOnce() + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, BatchError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(run)
        .map_err(BatchError::Spawn)
}

/// The calling thread's part: results back in input order, out to the output, a ticket returned
/// for each.
struct Writer<'a> {
    tickets: &'a SyncSender<()>,
    keep_going: bool,
    /// The reader's count of bytes read.
    consumed: &'a AtomicU64,
}

impl Writer<'_> {
    fn run(
        &self,
        done_rx: &Receiver<Done>,
        output: &mut impl Write,
        progress: &mut impl Progress,
    ) -> Result<Summary, BatchError> {
        let mut window = Reorder::new();
        let mut summary = Summary::default();
        for done in done_rx {
            progress.read(self.consumed.load(Ordering::Relaxed));
            window.insert(done.seq, done.outcome);
            while let Some(outcome) = window.pop_next() {
                match outcome {
                    Outcome::Done(json) => {
                        output.write_all(&json).map_err(BatchError::Write)?;
                        summary.ok += 1;
                        progress.written(summary.ok);
                    }
                    Outcome::Failed(error) if self.keep_going => {
                        if error.is_the_inputs() {
                            summary.bad += 1;
                        } else {
                            summary.guest_failed += 1;
                        }
                        progress.skipped(error);
                    }
                    Outcome::Failed(error) => return Err(error.into()),
                    Outcome::Fatal(error) => return Err(error),
                }
                // The line is done: its ticket goes back. Never blocks, since there are never
                // more tickets out than the channel holds.
                let _ = self.tickets.try_send(());
            }
        }
        if !window.is_empty() {
            return Err(BatchError::WorkerStopped);
        }
        Ok(summary)
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
        let outcome = match payload {
            Payload::Line(bytes) => transform_line(worker, line, &bytes),
            Payload::TooLong => Outcome::Failed(LineError::Record(RecordError::TooLong {
                what: format!("line {line}"),
                max: max_line_bytes,
            })),
            Payload::ReadError(error) => Outcome::Fatal(BatchError::Read(error)),
        };
        if done.send(Done { seq, outcome }).is_err() {
            return;
        }
    }
}

/// Parses, transforms and prints line number `line`.
fn transform_line<T: Transform>(worker: &mut T, line: u64, bytes: &[u8]) -> Outcome {
    let record = match parse_record(format_args!("line {line}"), bytes) {
        Ok(record) => record,
        Err(error) => return Outcome::Failed(error.into()),
    };
    let output = match worker.transform(record) {
        Ok(output) => output,
        Err(source) => {
            return Outcome::Failed(LineError::Call {
                line,
                path: worker.name(),
                source,
            });
        }
    };
    let mut json = Vec::new();
    match serde_json::to_writer(&mut json, &output) {
        Ok(()) => {
            json.push(b'\n');
            Outcome::Done(json)
        }
        Err(source) => Outcome::Fatal(BatchError::Print { line, source }),
    }
}

#[cfg(test)]
mod tests;
