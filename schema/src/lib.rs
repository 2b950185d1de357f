//! What the benchmark, the Extism peer and the tools that write reports share, with no wasm
//! runtime in it: the workloads every process times ([`workloads`]), the figures a peer hands over
//! ([`peer`]), how long and how often to sample them ([`plan`]), timing statistics ([`stats`]),
//! and the one atomic file writer ([`fs`]).
//!
//! The contract itself (the record, the two functions, the ptr/len wire format) is
//! `boundary-kernel`'s; this crate only depends on it for the record.

pub mod fs;
pub mod peer;
pub mod plan;
pub mod stats;
pub mod workloads;

pub use fs::{AtomicFile, WriteError, write_atomically};
pub use plan::Plan;
