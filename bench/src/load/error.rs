//! What stops the load test ([`LoadTestError`]): a tool that is missing or fails, a server that
//! does not start, a probe that cannot be read, a file that cannot be written.

use std::path::PathBuf;
use std::time::Duration;

use boundary_schema::WriteError;

/// What stops the load test. Each is one line; [`LoadTestError::is_setup`] tells a missing
/// tool or binary (exit 2) from a run that failed (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum LoadTestError {
    /// wrk is not on the PATH.
    #[error("wrk is not on the PATH: run `just setup-wrk` (Debian: apt-get install -y wrk)")]
    WrkMissing,
    /// A binary the run needs is missing.
    #[error("{} not found: {hint}", path.display())]
    Missing {
        /// The binary.
        path: PathBuf,
        /// How to get it.
        hint: &'static str,
    },
    /// A program could not be started.
    #[error("cannot run {command}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A program ran and failed.
    #[error("`{command}` failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed, on one line.
        output: String,
    },
    /// wrk's output did not hold the figures the script prints.
    #[error("wrk printed no figures: {0}")]
    NoFigures(String),
    /// The figures' JSON does not parse.
    #[error("wrk's figures do not parse: {json}")]
    Figures {
        /// The JSON line.
        json: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A server printed no address in time.
    #[error("{what} printed no address within {timeout:?}; it said: {said}")]
    NoAddress {
        /// The server.
        what: String,
        /// How long it was given.
        timeout: Duration,
        /// What it printed meanwhile, lines joined by ` | `.
        said: String,
    },
    /// A server printed an address that does not parse.
    #[error("{what} printed an address that is not one: {line}")]
    BadAddress {
        /// The server.
        what: String,
        /// The line.
        line: String,
    },
    /// A `/proc` file could not be read or lacks a figure.
    #[error("{file}: {why}")]
    Probe {
        /// The file.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// A scratch file or directory could not be made.
    #[error("cannot write {}", path.display())]
    Scratch {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The raw figures could not be encoded.
    #[error("cannot encode the figures")]
    Encode(#[source] serde_json::Error),
    /// The report could not be written (nothing was left half-written).
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl LoadTestError {
    /// Whether the machine lacks something the run needs (wrk, the `boundary` binary): not a
    /// failure of the servers under test.
    pub fn is_setup(&self) -> bool {
        matches!(self, Self::WrkMissing | Self::Missing { .. })
    }
}
