//! How a command fails: a class for the exit code, and one line on stderr.

use anyhow::anyhow;
use boundary_host::batch::{BatchError, LineError, RecordError};
use boundary_host::{CallError, Limit, LoadError};

/// A failure, classified for the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or input (including input over a limit): exit 2.
    Input(anyhow::Error),
    /// A guest failed, or the paths disagreed: exit 1.
    Guest(anyhow::Error),
}

impl Failure {
    /// A bad-input failure with this message.
    pub fn input(message: impl std::fmt::Display) -> Self {
        Self::Input(anyhow!("{message}"))
    }

    /// A guest failure with this message.
    pub fn guest(message: impl std::fmt::Display) -> Self {
        Self::Guest(anyhow!("{message}"))
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            Self::Guest(_) => 1,
        }
    }

    /// The one line printed on stderr: the error and each cause once, no backtrace.
    pub fn line(&self) -> String {
        let error = match self {
            Self::Input(e) | Self::Guest(e) => e,
        };
        let line = boundary_host::error::one_line(error.as_ref());
        line.replace(['\n', '\r'], " ")
    }
}

/// The command-line flag that sets a limit: every limit message names it.
pub fn flag(limit: Limit) -> &'static str {
    limit.flag()
}

/// An error that ran into a limit, printed with the flag that sets the limit.
#[derive(Debug)]
struct Limited<E> {
    error: E,
    flag: &'static str,
}

impl<E: std::fmt::Display> std::fmt::Display for Limited<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.error, self.flag)
    }
}

impl<E: std::error::Error> std::error::Error for Limited<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Names the flag after an error that ran into a limit.
fn with_flag<E>(error: E, limit: Option<Limit>) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    match limit {
        Some(limit) => anyhow::Error::new(Limited {
            error,
            flag: flag(limit),
        }),
        None => anyhow::Error::new(error),
    }
}

impl From<LoadError> for Failure {
    fn from(error: LoadError) -> Self {
        let limit = error.limit();
        Self::Input(with_flag(error, limit))
    }
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Self {
        let limit = error.limit();
        let input = error.is_input_error();
        let error = with_flag(error, limit);
        if input {
            Self::Input(error)
        } else {
            Self::Guest(error)
        }
    }
}

impl From<RecordError> for Failure {
    fn from(error: RecordError) -> Self {
        let limit = error.limit();
        Self::Input(with_flag(error, limit))
    }
}

/// A line `batch` could not transform: bad input when the engine counts it so
/// ([`LineError::is_the_inputs`], a record the guest refuses included), else the guest's.
impl From<LineError> for Failure {
    fn from(error: LineError) -> Self {
        let input = error.is_the_inputs();
        let error = match error {
            // The flag goes after the call's own message, before its causes.
            LineError::Call { line, path, source } => {
                let limit = source.limit();
                with_flag(source, limit)
                    .context(format!("{path} path"))
                    .context(format!("line {line}"))
            }
            other => {
                let limit = other.limit();
                with_flag(other, limit)
            }
        };
        if input {
            Self::Input(error)
        } else {
            Self::Guest(error)
        }
    }
}

impl From<BatchError> for Failure {
    fn from(error: BatchError) -> Self {
        match error {
            BatchError::Line(line) => line.into(),
            other if other.is_the_inputs() => Self::Input(other.into()),
            other => Self::Guest(other.into()),
        }
    }
}

/// Attaches context to an error while keeping its class.
pub trait FailureContext<T> {
    /// Prefixes the error with `what` (a file name, a path), keeping its exit code.
    fn context_of(self, what: impl std::fmt::Display) -> Result<T, Failure>;
}

impl<T, E: Into<Failure>> FailureContext<T> for Result<T, E> {
    fn context_of(self, what: impl std::fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| match e.into() {
            Failure::Input(e) => Failure::Input(e.context(what.to_string())),
            Failure::Guest(e) => Failure::Guest(e.context(what.to_string())),
        })
    }
}
