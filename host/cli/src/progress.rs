//! `batch`'s progress on stderr: an indicatif bar, drawn only when stderr is a terminal, that
//! the batch engine feeds ([`boundary_host::batch::Progress`]), and `--keep-going`'s report of
//! each bad line.

use std::io::{self, IsTerminal as _};

use boundary_host::batch::{LineError, Progress};
use indicatif::{ProgressBar, ProgressStyle};

use crate::failure::Failure;

/// A progress bar on stderr when it is a terminal, hidden otherwise: bytes read against the
/// file's size when it is known, and records written.
#[derive(Debug)]
pub struct Bar(ProgressBar);

impl Bar {
    /// The bar for an input of `size` bytes, when known.
    pub fn new(size: Option<u64>) -> Self {
        if !io::stderr().is_terminal() {
            return Self(ProgressBar::hidden());
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
        Self(bar)
    }

    /// Clears the bar off the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn read(&mut self, bytes: u64) {
        self.0.set_position(bytes);
    }

    fn written(&mut self, records: u64) {
        self.0.set_message(format!("{records} records"));
    }

    /// Prints the bad line's one-line error, as the command would fail with it, above the bar.
    fn skipped(&mut self, error: LineError) {
        let line = Failure::from(error).line();
        self.0.suspend(|| eprintln!("{line}"));
    }
}
