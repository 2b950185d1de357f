//! What can stop a benchmark ([`BenchError`]), and whether it is the input's fault or a guest's
//! ([`BenchError::is_input_error`]): the classification `boundary bench` maps to exit codes.

use std::path::PathBuf;

use boundary_host::{CallError, LoadError};
use boundary_schema::WriteError;

/// What can stop a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A guest did not load.
    #[error("{what}")]
    Load {
        /// The path, or the guest file.
        what: String,
        /// Why.
        #[source]
        source: LoadError,
    },
    /// A guest file could not be read (the error names the file).
    #[error(transparent)]
    GuestFile(LoadError),
    /// A call (or an instantiation) failed.
    #[error("{row} on {workload}")]
    Call {
        /// The row.
        row: String,
        /// The workload, or what was being set up.
        workload: String,
        /// What went wrong.
        #[source]
        source: CallError,
    },
    /// A row's output differs from native Rust's: the benchmark would time a bug.
    #[error("{row} on {workload}: the output differs from native Rust's")]
    Mismatch {
        /// The row.
        row: String,
        /// The workload.
        workload: &'static str,
    },
    /// Precompiling, deserializing or componentizing a guest failed.
    #[error("{what}")]
    Artifact {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The --guest files do not map onto the registered paths.
    #[error("{0}")]
    Guests(String),
    /// The executor the async rows run on did not start.
    #[error("cannot start the async runtime")]
    Executor(#[source] std::io::Error),
    /// A --peer-results file is not a peer's JSON.
    #[error("{} is not a peer's figures (boundary-extism bench --out)", path.display())]
    PeerResults {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// A peer's figures do not fit this run (other workloads, a missing cell).
    #[error("{0}")]
    Peer(String),
    /// The batch pipeline failed while measuring it.
    #[error("batch, {row}: {message}")]
    Batch {
        /// The row.
        row: String,
        /// The failure, on one line.
        message: String,
    },
    /// Reading a file failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Creating the report's directory failed.
    #[error("cannot create {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed; nothing was left half-written (`boundary_schema::fs`).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The chart could not be drawn.
    #[error("cannot draw the chart")]
    Chart(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The browser figures are not the JSON the e2e test writes.
    #[error("{} is not the browser comparison's JSON", path.display())]
    WebResults {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
}

impl BenchError {
    /// Whether the input is at fault: a bad `--guest`, `--out`, `--peer-results` or
    /// `--web-results` file (exit 2 in `boundary bench`). A guest that fails to load is an input
    /// error too; a call that fails is one only when [`CallError::is_input_error`] says so.
    /// Everything else (a guest that fails or disagrees with native Rust, a benchmark that
    /// cannot run) is not (exit 1).
    pub fn is_input_error(&self) -> bool {
        match self {
            Self::Load { .. }
            | Self::GuestFile(_)
            | Self::Guests(_)
            | Self::Artifact { .. }
            | Self::Read { .. }
            | Self::CreateDir { .. }
            | Self::Write(_)
            | Self::WebResults { .. }
            | Self::PeerResults { .. }
            | Self::Peer(_) => true,
            Self::Call { source, .. } => source.is_input_error(),
            Self::Mismatch { .. } | Self::Batch { .. } | Self::Executor(_) | Self::Chart(_) => {
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_output_is_a_guest_failure_on_one_line() {
        let error = BenchError::Mismatch {
            row: "component/sync".into(),
            workload: "W0",
        };
        assert!(!error.is_input_error());
        assert_eq!(
            error.to_string(),
            "component/sync on W0: the output differs from native Rust's"
        );
    }

    #[test]
    fn a_file_that_cannot_be_written_is_an_input_error() {
        let error = BenchError::from(WriteError {
            path: "/nowhere/report.md".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        assert!(error.is_input_error());
        assert_eq!(error.to_string(), "cannot write /nowhere/report.md");
    }
}
