//! The pipeline's tests: the window bounds the records in flight, results come out in input
//! order, and bad lines stop the run or are counted by whose fault they are.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use boundary_kernel::wire::GuestError;

use super::run_pipeline;
use crate::batch::{BatchError, LineError, NativeWorker, Options, Progress, Transform};
use crate::error::one_line;
use crate::{CallError, SomeDataStruct};

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
    fn name(&self) -> &'static str {
        "gated"
    }

    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, CallError> {
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
        Ok(crate::native_transform(record))
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

/// What a run told its [`Progress`].
#[derive(Default)]
struct Heard {
    read: u64,
    written: u64,
    skipped: Vec<String>,
}

impl Progress for Heard {
    fn read(&mut self, bytes: u64) {
        assert!(bytes >= self.read, "bytes read went down");
        self.read = bytes;
    }
    fn written(&mut self, records: u64) {
        assert_eq!(records, self.written + 1);
        self.written = records;
    }
    fn skipped(&mut self, error: LineError) {
        self.skipped.push(one_line(&error));
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
    let input = ndjson(count);
    let input_len = input.len() as u64;
    let mut out = Counting {
        out: Vec::new(),
        state: &state,
    };
    let mut heard = Heard::default();
    let summary = run_pipeline(
        io::Cursor::new(input),
        &mut out,
        vec![gated; workers],
        Options {
            max_line_bytes: 1 << 10,
            keep_going: false,
            window,
        },
        &mut heard,
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
    assert_eq!(heard.written, count as u64);
    assert_eq!(
        heard.read, input_len,
        "the last line's bytes were not heard"
    );
    assert!(heard.skipped.is_empty(), "no line fails");
}

#[test]
fn the_first_bad_line_stops_the_run_and_keep_going_counts_them() {
    let input =
        b"{\"name\":\"a\",\"names\":[]}\n\n{\"name\":1}\nnot json\n{\"name\":\"b\",\"names\":[]}\n";
    let run = |keep_going| {
        let mut out = Vec::new();
        let mut heard = Heard::default();
        let result = run_pipeline(
            &input[..],
            &mut out,
            vec![NativeWorker; 3],
            Options {
                max_line_bytes: 1 << 10,
                keep_going,
                window: 6,
            },
            &mut heard,
        );
        (result, String::from_utf8(out).unwrap(), heard.skipped)
    };
    let (result, _, reported) = run(false);
    let failure = result.unwrap_err();
    // Bad input: `boundary batch` exits 2.
    assert!(failure.is_the_inputs());
    assert!(
        one_line(&failure).starts_with("line 3 is not a record"),
        "{}",
        one_line(&failure)
    );
    assert!(reported.is_empty());

    let (result, out, reported) = run(true);
    let summary = result.unwrap();
    assert_eq!((summary.ok, summary.bad), (2, 2));
    assert_eq!(out.lines().count(), 2);
    assert!(reported[0].starts_with("line 3 "), "{reported:?}");
    assert!(reported[1].starts_with("line 4 "), "{reported:?}");
    assert!(summary.failure().unwrap().is_the_inputs());
}

/// Refuses the record named `refuse` through the contract, traps on `trap`.
#[derive(Clone)]
struct Picky;

impl Transform for Picky {
    fn name(&self) -> &'static str {
        "picky"
    }

    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, CallError> {
        match record.name.as_str() {
            "refuse" => Err(CallError::Guest(GuestError::TrailingBytes { count: 1 })),
            "trap" => Err(CallError::Trap("unreachable".into())),
            _ => Ok(crate::native_transform(record)),
        }
    }
}

#[test]
fn a_refused_record_is_a_bad_line_and_a_trap_is_the_guests_failure() {
    let run = |input: &'static [u8], keep_going| {
        let options = Options::for_workers(2, 1 << 10, keep_going);
        run_pipeline(input, io::sink(), vec![Picky; 2], options, ())
    };
    let refused = run(b"{\"name\":\"refuse\",\"names\":[]}\n", false).unwrap_err();
    assert!(refused.is_the_inputs());
    let BatchError::Line(line) = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(line.fault(), crate::Fault::Refused);
    assert!(
        one_line(&refused).starts_with("line 1: picky path: "),
        "{refused}"
    );

    let trapped = run(b"\n{\"name\":\"trap\",\"names\":[]}\n", false).unwrap_err();
    assert!(!trapped.is_the_inputs());
    assert_eq!(
        one_line(&trapped),
        "line 2: picky path: the guest trapped: unreachable"
    );

    // Counted by whose fault they are; any bad line makes the whole run bad input.
    let input = b"{\"name\":\"trap\",\"names\":[]}\n{\"name\":\"a\",\"names\":[]}\n";
    let summary = run(input, true).unwrap();
    assert_eq!((summary.ok, summary.bad, summary.guest_failed), (1, 0, 1));
    let failure = summary.failure().unwrap();
    assert!(!failure.is_the_inputs());
    assert_eq!(failure.to_string(), "1 of 2 lines failed (1 ok, 1 bad)");
    let input = b"{\"name\":\"trap\",\"names\":[]}\n{\"name\":\"refuse\",\"names\":[]}\n";
    let summary = run(input, true).unwrap();
    assert_eq!((summary.ok, summary.bad, summary.guest_failed), (0, 1, 1));
    assert!(summary.failure().unwrap().is_the_inputs());
    assert!(run(b"", true).unwrap().failure().is_none());
}

#[test]
fn a_line_over_the_cap_is_bad_input_naming_its_line() {
    let options = Options::for_workers(1, 8, false);
    let error = run_pipeline(
        &b"\n123456789\n"[..],
        io::sink(),
        vec![NativeWorker],
        options,
        (),
    )
    .unwrap_err();
    assert!(error.is_the_inputs());
    assert_eq!(
        error.to_string(),
        "line 2: the input is over the 8-byte limit"
    );
    let BatchError::Line(line) = error else {
        panic!("{error:?}")
    };
    assert_eq!(line.limit(), Some(crate::Limit::MaxInputBytes));
}
