//! The batch engine: an ordered, bounded parallel map of records, one JSON record per line
//! (NDJSON), through one [`Transform`] per worker thread. `boundary batch` and the benchmark's
//! batch section both run it.
//!
//! [`run_pipeline`] has three stages:
//!
//! 1. a reader thread splits the input into lines ([`read_line`]), holding at most the line cap
//!    ([`Options::max_line_bytes`]) of any one line: a longer line is a bad line, and its bytes
//!    past the cap are never kept;
//! 2. worker threads, each owning one [`Transform`] (one guest instance), parse, transform and
//!    print records;
//! 3. the calling thread puts the results back in input order ([`Reorder`]) and writes them.
//!
//! A fixed number of tickets ([`Options::window`]) bounds the records in flight, read but not yet
//! written: the reader takes a ticket before it hands a line on, and the writer gives it back
//! once that line's result is out. Whatever the input's length, at most `window` lines (each at
//! most the line cap) are in the channels, the workers and the reorder buffer together.
//!
//! ```
//! use boundary_host::batch::{NativeWorker, Options, run_pipeline};
//!
//! let input = b"{\"name\":\"a\",\"names\":[]}\n\n{\"name\":\"b\",\"names\":[\"x\"]}\n";
//! let mut output = Vec::new();
//! let options = Options::for_workers(2, 1 << 20, false);
//! let summary = run_pipeline(&input[..], &mut output, vec![NativeWorker; 2], options, ())?;
//! assert_eq!(summary.ok, 2);
//! assert_eq!(
//!     String::from_utf8(output)?,
//!     "{\"name\":\"a\",\"names\":[\"new name\"]}\n{\"name\":\"b\",\"names\":[\"x\",\"new name\"]}\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files: `pipeline` (the threads and the tickets), `lines` (the bounded line reader), `reorder`
//! (the reorder buffer), `worker` (the transforms), `record` (a record's JSON and its errors),
//! `error` (how a run or a line fails).

mod error;
mod lines;
mod pipeline;
mod record;
mod reorder;
mod worker;

pub use error::{BatchError, LineError};
pub use lines::{Line, read_line};
pub use pipeline::run_pipeline;
pub use record::{RecordError, parse_record};
pub use reorder::Reorder;
pub use worker::{GuestWorker, NativeWorker, Transform};

/// Records in flight per worker: read, being transformed, or waiting to be written in order.
pub const WINDOW_PER_WORKER: usize = 4;

/// How [`run_pipeline`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The longest line, in bytes, without its newline: a longer one is a bad line.
    pub max_line_bytes: u32,
    /// Go on past bad lines, reporting each ([`Progress::skipped`]) and counting them in the
    /// [`Summary`].
    pub keep_going: bool,
    /// The most records in flight at once (at least 1).
    pub window: usize,
}

impl Options {
    /// The options for `workers` workers: a window of [`WINDOW_PER_WORKER`] records each.
    pub fn for_workers(workers: usize, max_line_bytes: u32, keep_going: bool) -> Self {
        Self {
            max_line_bytes,
            keep_going,
            window: workers.saturating_mul(WINDOW_PER_WORKER),
        }
    }
}

/// What a caller hears of a run: a progress bar, a report of bad lines. Every method is called
/// on the thread that called [`run_pipeline`], the lines in input order; each does nothing unless
/// implemented, and `()` hears nothing.
pub trait Progress {
    /// The input's bytes read so far, lines still in flight included.
    fn read(&mut self, bytes: u64) {
        let _ = bytes;
    }

    /// A record was written: `records` have been so far.
    fn written(&mut self, records: u64) {
        let _ = records;
    }

    /// A line failed, and the run goes on past it ([`Options::keep_going`]); it is counted in
    /// the [`Summary`] by [`LineError::is_the_inputs`].
    fn skipped(&mut self, error: LineError) {
        let _ = error;
    }
}

impl Progress for () {}

impl<P: Progress + ?Sized> Progress for &mut P {
    fn read(&mut self, bytes: u64) {
        (**self).read(bytes);
    }

    fn written(&mut self, records: u64) {
        (**self).written(records);
    }

    fn skipped(&mut self, error: LineError) {
        (**self).skipped(error);
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Records transformed and written.
    pub ok: u64,
    /// Lines that failed as bad input ([`LineError::is_the_inputs`]).
    pub bad: u64,
    /// Lines on which the guest failed.
    pub guest_failed: u64,
}

impl Summary {
    /// Lines that failed, for any reason.
    pub fn failed(&self) -> u64 {
        self.bad + self.guest_failed
    }

    /// Lines that were not blank.
    pub fn lines(&self) -> u64 {
        self.ok + self.failed()
    }

    /// The error a [`Options::keep_going`] run ends with: none when every line was good, else
    /// [`BatchError::LinesFailed`] with the counts.
    pub fn failure(&self) -> Option<BatchError> {
        (self.failed() > 0).then_some(BatchError::LinesFailed(*self))
    }
}
