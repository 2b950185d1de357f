//! The bounded line reader: [`read_line`] keeps at most the cap of any line, and the reader
//! thread hands each non-blank line on once it holds a ticket.

use std::io::{self, BufRead};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

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

/// A line as the reader hands it on.
pub(super) enum Payload {
    /// The line's bytes, without the newline.
    Line(Vec<u8>),
    /// The line is longer than the cap; its bytes were not kept.
    TooLong,
    /// Reading failed: the run stops here.
    ReadError(io::Error),
}

/// A line handed to the workers: its place in the output, its number, its bytes.
pub(super) struct Job {
    /// The line's place among the non-blank lines, from 0.
    pub seq: u64,
    /// The line's number, from 1, blank lines counted.
    pub line: u64,
    pub payload: Payload,
}

/// The reader thread's state.
pub(super) struct Reader<R> {
    pub input: R,
    pub max_line_bytes: usize,
    pub keep_going: bool,
    pub stop: Arc<AtomicBool>,
    /// The bytes read so far, for the caller's progress.
    pub consumed: Arc<AtomicU64>,
}

impl<R: BufRead> Reader<R> {
    /// Hands each non-blank line on, once it holds a ticket, until the input ends, a read
    /// fails, the run stops, or (without `keep_going`) a line is over the cap.
    pub fn run(mut self, tickets: &Receiver<()>, jobs: &SyncSender<Job>) {
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
            self.consumed.store(consumed, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

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
}
