//! How a batch run fails ([`BatchError`]) and how one line fails ([`LineError`]), each with whose
//! fault it is: a caller maps that to an exit code, the way the command line does.

use std::io;

use super::{RecordError, Summary};
use crate::{CallError, Fault, Limit};

/// Why one line failed: its record, or the worker's call on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is not a record, or is longer than [`super::Options::max_line_bytes`]; its
    /// `what` is `line N`.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The worker's call on the line's record failed (or its instance could not be replaced).
    #[error("line {line}: {path} path")]
    Call {
        /// The line's number, from 1, blank lines counted.
        line: u64,
        /// The worker's path ([`super::Transform::name`]).
        path: &'static str,
        /// Why.
        #[source]
        source: CallError,
    },
}

impl LineError {
    /// Whose fault the line's failure is: [`Fault::Input`] for a line that is not a record or
    /// is too long, the call's [`CallError::fault`] otherwise.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Record(_) => Fault::Input,
            Self::Call { source, .. } => source.fault(),
        }
    }

    /// Whether the line counts as bad input ([`Fault::is_the_inputs`]: a record the host or the
    /// guest refuses) rather than as the guest's failure: [`Summary::bad`] or
    /// [`Summary::guest_failed`].
    pub fn is_the_inputs(&self) -> bool {
        self.fault().is_the_inputs()
    }

    /// The limit the line ran into, if it did.
    pub fn limit(&self) -> Option<Limit> {
        match self {
            Self::Record(error) => error.limit(),
            Self::Call { source, .. } => source.limit(),
        }
    }
}

/// Why a run stopped, or (for [`BatchError::LinesFailed`]) how a run that went on past its bad
/// lines ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A line failed, and the run stopped there (without [`super::Options::keep_going`]).
    #[error(transparent)]
    Line(#[from] LineError),
    /// Lines failed in a run that went on past them ([`Summary::failure`]).
    #[error("{} of {} lines failed ({} ok, {} bad)", .0.failed(), .0.lines(), .0.ok, .0.failed())]
    LinesFailed(Summary),
    /// Reading the input failed: the reader's own error, which names what it reads.
    #[error(transparent)]
    Read(io::Error),
    /// Writing the output failed.
    #[error("cannot write the output")]
    Write(#[source] io::Error),
    /// A transformed record could not be printed as JSON.
    #[error("line {line}: cannot print the output")]
    Print {
        /// The line's number.
        line: u64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A thread could not be started.
    #[error("cannot start a batch thread")]
    Spawn(#[source] io::Error),
    /// The tickets could not be handed out.
    #[error("cannot set up the batch pipeline")]
    Setup,
    /// A reader or worker thread panicked.
    #[error("a batch thread panicked")]
    Panicked,
    /// The workers ended with records still owed.
    #[error("a batch worker stopped before its records were done")]
    WorkerStopped,
}

impl BatchError {
    /// Whether the input is to blame (a bad line, bad lines counted, an input that cannot be read
    /// or an output that cannot be written) rather than a guest or the host: `boundary batch`
    /// exits 2 for the first, 1 for the rest.
    pub fn is_the_inputs(&self) -> bool {
        match self {
            Self::Line(error) => error.is_the_inputs(),
            Self::LinesFailed(summary) => summary.bad > 0,
            Self::Read(_) | Self::Write(_) => true,
            Self::Print { .. }
            | Self::Spawn(_)
            | Self::Setup
            | Self::Panicked
            | Self::WorkerStopped => false,
        }
    }
}
