//! The two error types of the host library.
//!
//! [`LoadError`]: the file given as a guest is not one this host can run. [`CallError`]: a call
//! into a guest that loaded failed, either because the guest misbehaved (trapped, returned an
//! address outside its memory, ...) or because it reported an error through the contract.

use std::path::{Path, PathBuf};

use boundary_kernel::wire::GuestError;

/// Why a file could not be loaded as a guest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
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
    /// The guest imports something this host does not provide.
    #[error("the guest imports `{name}`, which this host does not provide")]
    UnsupportedImport {
        /// The import's name.
        name: String,
    },
    /// Wasmtime rejected the bytes or could not link them.
    #[error("invalid guest: {0}")]
    Invalid(String),
    /// Wasmtime rejected the engine configuration.
    #[error("cannot configure the engine: {0}")]
    Engine(String),
}

/// Why a call into a loaded guest failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The guest reported an error through the contract (the `Err` of a ptr/len response).
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The encoded input is larger than [`crate::Limits::max_input_bytes`].
    #[error("the input is {len} bytes, over the {max}-byte limit")]
    InputTooLarge {
        /// Encoded input length.
        len: u64,
        /// The limit.
        max: u32,
    },
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
    #[error("the guest hit the {limit}-byte memory limit ({detail})")]
    MemoryLimit {
        /// The limit.
        limit: usize,
        /// What failed when the limit was hit.
        detail: String,
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
    /// The guest claims an output longer than [`crate::Limits::max_output_bytes`].
    #[error("the guest's output is {len} bytes, over the {max}-byte limit")]
    OutputTooLarge {
        /// Claimed length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The guest's output bytes are not a valid response.
    #[error("the guest's output does not decode: {0}")]
    Decode(String),
    /// The guest does not export a function this call needs.
    #[error("the guest does not export `{0}`")]
    MissingExport(&'static str),
}

impl LoadError {
    /// Reads a guest file, naming the file when that fails.
    ///
    /// # Errors
    ///
    /// [`LoadError::Read`] with the path and the I/O error.
    pub fn read_file(path: &Path) -> Result<Vec<u8>, Self> {
        std::fs::read(path).map_err(|source| Self::Read {
            path: path.to_owned(),
            source,
        })
    }
}

impl CallError {
    /// Whether the instance that returned this error may be called again. Only an error the
    /// guest reported through the contract, or an input the host refused before calling, leaves
    /// the instance as it was; after anything else it is dropped and the next call gets a fresh
    /// one.
    pub fn instance_is_reusable(&self) -> bool {
        matches!(self, Self::Guest(_) | Self::InputTooLarge { .. })
    }
}

/// Wasmtime errors carry a backtrace and a chain of causes over several lines; the CLI prints
/// one line, so keep the causes and drop the backtrace.
pub(crate) fn one_line(error: &wasmtime::Error) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        let first = text.lines().next().unwrap_or_default().trim().to_owned();
        if !first.is_empty() && !parts.contains(&first) {
            parts.push(first);
        }
    }
    parts.join(": ")
}
