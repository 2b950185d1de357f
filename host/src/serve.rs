//! `boundary serve`: the web app, its to-do API, and server-side transforms.
//!
//! Placeholder signature for the browser issue; the implementation lands with it.

use std::net::SocketAddr;
use std::path::Path;

use crate::Runtime;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The server is not built yet.
    #[error("`boundary serve` is not implemented yet")]
    NotImplemented,
}

/// Serves `dist` and the API on `addr` until interrupted.
///
/// # Errors
///
/// [`ServeError`] when the server cannot start.
pub async fn run(runtime: Runtime, addr: SocketAddr, dist: &Path) -> Result<(), ServeError> {
    let _ = (runtime, addr, dist);
    Err(ServeError::NotImplemented)
}
