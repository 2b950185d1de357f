//! The engines and the executor every benchmark row runs on: the library's limits with room for
//! the largest workloads ([`bench_limits`]), an on-demand and a pooling engine, and the
//! current-thread executor async calls are driven on.

use std::time::Duration;

use boundary_host::{Allocator, Limits, Runtime};

use crate::BenchError;

/// The library defaults, with room for W2 and W3 and a deadline no slow sample reaches. Timed
/// instances do not count guest calls (a call hook adds up to about a tenth to a W0 call); the
/// harness gets the counts from a counting twin of each row.
pub fn bench_limits(allocator: Allocator) -> Limits {
    Limits {
        max_memory_bytes: 256 << 20,
        deadline: Duration::from_secs(30),
        allocator,
        count_guest_calls: false,
        ..Limits::default()
    }
}

/// A runtime with [`bench_limits`] and this allocator, counting guest calls or not.
///
/// # Errors
///
/// [`BenchError::Load`] if wasmtime rejects the configuration for this machine.
pub fn engine(allocator: Allocator, count_guest_calls: bool) -> Result<Runtime, BenchError> {
    Runtime::new(Limits {
        count_guest_calls,
        ..bench_limits(allocator)
    })
    .map_err(|source| BenchError::Load {
        what: "the engine".to_owned(),
        source,
    })
}

/// An on-demand and a pooling engine with [`bench_limits`], counting guest calls or not.
///
/// # Errors
///
/// As [`engine`].
pub fn engines(count_guest_calls: bool) -> Result<(Runtime, Runtime), BenchError> {
    Ok((
        engine(Allocator::OnDemand, count_guest_calls)?,
        engine(Allocator::Pooling, count_guest_calls)?,
    ))
}

/// The current-thread executor the async rows are driven on.
///
/// # Errors
///
/// [`BenchError::Executor`] if it does not start.
pub fn current_thread() -> Result<tokio::runtime::Runtime, BenchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Executor)
}
