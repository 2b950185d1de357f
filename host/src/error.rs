//! The two error types of the host library, and the limits they name.
//!
//! [`LoadError`]: the file given as a guest is not one this host can run. [`CallError`]: a call
//! into a guest that loaded failed, either because the guest misbehaved (trapped, returned an
//! address outside its memory, ...) or because it reported an error through the contract.
//!
//! Causes are kept as [`std::error::Error::source`]s and never repeated in a variant's own
//! message, so printing the chain ([`one_line`]) names each cause once.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use boundary_kernel::wire::GuestError;

/// A boxed cause, kept as an error's `source`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A bound of [`crate::Limits`], named in the errors it causes so that a front end can say how
/// to change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`crate::Limits::max_input_bytes`].
    MaxInputBytes,
    /// [`crate::Limits::max_output_bytes`].
    MaxOutputBytes,
    /// [`crate::Limits::max_memory_bytes`].
    MaxMemoryBytes,
    /// [`crate::Limits::deadline`].
    Deadline,
    /// [`crate::Limits::fuel`].
    Fuel,
    /// [`crate::Limits::max_wasm_stack`].
    MaxWasmStack,
    /// [`crate::Limits::max_guest_file_bytes`].
    MaxGuestFileBytes,
}

impl Limit {
    /// The `boundary` command's flag that sets this limit (`boundary serve` takes the same
    /// flags): every message about a limit ends with it, on the command line and in the
    /// server's JSON errors alike.
    pub fn flag(self) -> &'static str {
        match self {
            Self::MaxInputBytes => "--max-input-bytes",
            Self::MaxOutputBytes => "--max-output-bytes",
            Self::MaxMemoryBytes => "--max-memory-mib",
            Self::Deadline => "--deadline-ms",
            Self::Fuel => "--fuel",
            Self::MaxWasmStack => "--max-stack-kib",
            Self::MaxGuestFileBytes => "--max-guest-mib",
        }
    }
}

/// Why a file could not be loaded as a guest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The path names a directory, a device or a pipe rather than a file.
    #[error("{} is {what}, not a wasm file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead: "a directory", "not a regular file".
        what: &'static str,
    },
    /// The file is larger than [`crate::Limits::max_guest_file_bytes`].
    #[error("{} is {len} bytes, over the {max}-byte limit for a guest file", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The bytes are too short to hold the 8-byte WebAssembly header.
    #[error("{}", if *len == 0 { "the file is empty, not WebAssembly".to_owned() } else {
        format!("the file is only {len} bytes, too short to be WebAssembly (an 8-byte header at least)")
    })]
    TooShort {
        /// How many bytes there are.
        len: usize,
    },
    /// The bytes do not start with the WebAssembly magic number.
    #[error("not a WebAssembly file: it starts with {found}, not \\0asm")]
    NotWasm {
        /// The first bytes, escaped.
        found: String,
    },
    /// A core module where a component was expected, or the other way round.
    #[error("expected a {expected}, but this is a {found}")]
    WrongKind {
        /// What the path needs.
        expected: &'static str,
        /// What the file is.
        found: &'static str,
    },
    /// The guest lacks an export the path needs.
    #[error("the guest does not export `{name}` ({expected})")]
    MissingExport {
        /// The export's name.
        name: String,
        /// What it should be.
        expected: String,
    },
    /// An export exists with the wrong type.
    #[error("the guest's `{name}` export is {found}, expected {expected}")]
    WrongExportType {
        /// The export's name.
        name: String,
        /// What it should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// The component exports the world's functions, with other types than `wit/` gives them.
    #[error("the guest's `{name}` export is {found}, which does not match the `transformer` world")]
    WorldMismatch {
        /// The export whose type differs.
        name: String,
        /// Its type, in WIT syntax.
        found: String,
        /// Wasmtime's type check, which names the part that differs.
        #[source]
        source: BoxError,
    },
    /// The guest imports something this host does not provide.
    #[error("the guest imports `{name}`, which this host does not provide")]
    UnsupportedImport {
        /// The import's name.
        name: String,
    },
    /// Wasmtime rejected the bytes or could not link them.
    #[error("invalid guest")]
    Invalid(#[source] BoxError),
    /// Wasmtime rejected the engine configuration, or its clock could not start.
    #[error("cannot configure the engine")]
    Engine(#[source] BoxError),
}

/// Whose fault a failed call is ([`CallError::fault`]): what a caller tells its user. The
/// command line maps it to an exit code, the server to an HTTP status, `batch` to a bad line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The caller's input does not fit: over [`crate::Limits::max_input_bytes`], or not
    /// encodable for the guest. Nothing ran.
    Input,
    /// The guest refused the input through the contract (the error the contract lets it
    /// report). The instance is as it was.
    Refused,
    /// The call ran past [`crate::Limits::deadline`] and was stopped.
    Deadline,
    /// The guest ran into a resource limit other than the deadline: memory, stack, fuel, or the
    /// output size.
    Limit,
    /// The guest broke the contract: it trapped, returned a value the host refuses, or lacks an
    /// export.
    Broken,
}

impl Fault {
    /// Whether the input, rather than the guest, is to blame: [`Fault::Input`] and
    /// [`Fault::Refused`].
    pub fn is_the_inputs(self) -> bool {
        matches!(self, Self::Input | Self::Refused)
    }
}

/// Why a call into a loaded guest failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The guest reported an error through the contract (the `Err` of a ptr/len response).
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The encoded input is larger than [`crate::Limits::max_input_bytes`].
    #[error("the input is {len} bytes, over the {max}-byte input limit")]
    InputTooLarge {
        /// Encoded input length.
        len: u64,
        /// The limit.
        max: u32,
    },
    /// The host could not encode the input for the guest.
    #[error("the host could not encode the input")]
    Encode(#[source] postcard::Error),
    /// The call ran past [`crate::Limits::deadline`] and was interrupted.
    #[error("the guest ran past its {deadline:?} deadline and was stopped")]
    Timeout {
        /// The deadline.
        deadline: std::time::Duration,
    },
    /// The call used up [`crate::Limits::fuel`].
    #[error("the guest used up its fuel ({fuel} units)")]
    OutOfFuel {
        /// Fuel per call.
        fuel: u64,
    },
    /// The guest overflowed [`crate::Limits::max_wasm_stack`].
    #[error("the guest overflowed its {max_wasm_stack}-byte stack")]
    StackOverflow {
        /// The stack cap.
        max_wasm_stack: usize,
    },
    /// The guest asked for more memory than [`crate::Limits::max_memory_bytes`] and failed.
    #[error("the guest hit the {limit}-byte memory limit")]
    MemoryLimit {
        /// The limit.
        limit: usize,
        /// What failed when the limit was hit.
        #[source]
        source: BoxError,
    },
    /// The guest trapped, or wasmtime refused a value while lowering or lifting it.
    #[error("the guest trapped: {0}")]
    Trap(String),
    /// Instantiating the guest failed.
    #[error("cannot instantiate the guest: {0}")]
    Instantiate(String),
    /// `ns_malloc` returned 0 for a non-empty request.
    #[error("the guest could not allocate {size} bytes (ns_malloc returned 0)")]
    AllocFailed {
        /// Requested size.
        size: u32,
    },
    /// A guest-returned range does not lie inside guest memory.
    #[error(
        "the guest returned {what} at {ptr:#x} with length {len}, outside its {memory_size}-byte memory"
    )]
    OutOfBounds {
        /// Which value.
        what: &'static str,
        /// Start address.
        ptr: u32,
        /// Length in bytes.
        len: u32,
        /// The memory's size when it was checked.
        memory_size: u64,
    },
    /// The result region's address is not aligned as the ABI requires.
    #[error("the guest returned its result region at {ptr:#x}, which is not aligned to {align}")]
    Misaligned {
        /// The address.
        ptr: u32,
        /// The required alignment.
        align: u32,
    },
    /// The guest's output is longer than [`crate::Limits::max_output_bytes`]. On the component
    /// path `len` is `None` when lifting stopped at the limit before the whole size was known.
    #[error("the guest's output is {}, over the {max}-byte output limit",
        len.map_or_else(|| "larger".to_owned(), |len| format!("{len} bytes")))]
    OutputTooLarge {
        /// Claimed or measured length, when known.
        len: Option<u64>,
        /// The limit.
        max: u32,
    },
    /// The guest's output bytes are not a valid response.
    #[error("the guest's output does not decode: {detail}")]
    Decode {
        /// What the decoder said.
        detail: String,
    },
    /// The guest does not export a function this call needs.
    #[error("the guest does not export `{0}`")]
    MissingExport(&'static str),
}

impl LoadError {
    /// Wraps an error wasmtime returned while compiling or linking a guest.
    pub(crate) fn invalid(error: wasmtime::Error) -> Self {
        Self::Invalid(error.into())
    }

    /// Wraps an error wasmtime returned while configuring an engine.
    pub(crate) fn engine(error: wasmtime::Error) -> Self {
        Self::Engine(error.into())
    }

    /// The limit that refused the guest, if one did.
    pub fn limit(&self) -> Option<Limit> {
        matches!(self, Self::FileTooLarge { .. }).then_some(Limit::MaxGuestFileBytes)
    }
}

impl CallError {
    /// Whether the instance that returned this error may be called again: the one rule every
    /// caller ([`crate::Pool`], `Instance::is_reusable_after`) follows.
    ///
    /// Only an error the guest reported through the contract, or an input the host refused
    /// before calling, leaves the instance as it was; after anything else it is dropped and the
    /// next call gets a fresh one.
    pub fn instance_is_reusable(&self) -> bool {
        matches!(
            self,
            Self::Guest(_) | Self::InputTooLarge { .. } | Self::Encode(_)
        )
    }

    /// Whether the caller's input caused this error (it is over a limit or cannot be encoded),
    /// rather than the guest.
    pub fn is_input_error(&self) -> bool {
        self.fault() == Fault::Input
    }

    /// Whose fault the failure is, and so what a caller answers: the one classification the
    /// command line's exit codes, the server's HTTP statuses and `batch`'s lines map from.
    pub fn fault(&self) -> Fault {
        match self {
            Self::InputTooLarge { .. } | Self::Encode(_) => Fault::Input,
            Self::Guest(_) => Fault::Refused,
            Self::Timeout { .. } => Fault::Deadline,
            Self::OutOfFuel { .. }
            | Self::StackOverflow { .. }
            | Self::MemoryLimit { .. }
            | Self::OutputTooLarge { .. } => Fault::Limit,
            Self::Trap(_)
            | Self::Instantiate(_)
            | Self::AllocFailed { .. }
            | Self::OutOfBounds { .. }
            | Self::Misaligned { .. }
            | Self::Decode { .. }
            | Self::MissingExport(_) => Fault::Broken,
        }
    }

    /// The limit this error ran into, if it is one.
    pub fn limit(&self) -> Option<Limit> {
        Some(match self {
            Self::InputTooLarge { .. } => Limit::MaxInputBytes,
            Self::OutputTooLarge { .. } => Limit::MaxOutputBytes,
            Self::Timeout { .. } => Limit::Deadline,
            Self::OutOfFuel { .. } => Limit::Fuel,
            Self::StackOverflow { .. } => Limit::MaxWasmStack,
            Self::MemoryLimit { .. } => Limit::MaxMemoryBytes,
            _ => return None,
        })
    }

    /// Maps a guest's decode error on the host's side of the ABI: the guest's output, not its
    /// input, failed to decode.
    pub(crate) fn output_decode(error: GuestError) -> Self {
        Self::Decode {
            detail: match error {
                GuestError::Decode { message } => message,
                other => other.to_string(),
            },
        }
    }
}

/// Reads a guest file of at most `max` bytes, refusing what is not a regular file before
/// reading it, and reading no more than `max + 1` bytes from anything that grows as it is read.
///
/// # Errors
///
/// [`LoadError::NotAFile`] for a directory, device or pipe, [`LoadError::FileTooLarge`] over
/// `max`, and [`LoadError::Read`] when reading fails.
pub fn read_guest_file(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    let read_error = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_dir() {
        return Err(LoadError::NotAFile {
            path: path.to_owned(),
            what: "a directory",
        });
    }
    if !metadata.is_file() {
        return Err(LoadError::NotAFile {
            path: path.to_owned(),
            what: "not a regular file",
        });
    }
    let too_large = |len| LoadError::FileTooLarge {
        path: path.to_owned(),
        len,
        max,
    };
    if metadata.len() > max {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// An error and its causes on one line, each cause once and only its first line (wasmtime's
/// errors carry a multi-line backtrace): `error: cause: deeper cause`.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        let first = text.lines().next().unwrap_or_default().trim().to_owned();
        if !first.is_empty() && !parts.iter().any(|part| part.contains(&first)) {
            parts.push(first);
        }
        next = cause.source();
    }
    parts.join(": ")
}

/// [`one_line`] for wasmtime's own error type, which is not a `std::error::Error` itself.
pub(crate) fn wasmtime_one_line(error: &wasmtime::Error) -> String {
    let boxed: &(dyn std::error::Error + Send + Sync + 'static) = error.as_ref();
    one_line(boxed)
}
