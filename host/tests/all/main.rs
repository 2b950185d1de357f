//! The host's integration tests: one binary, one module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod cli;
mod contract;
mod differential;
mod inspect;

use boundary_host::{ComponentInstance, RawInstance, Runtime, embedded};

/// A runtime with the default limits and one fresh instance of each embedded guest.
pub async fn instances() -> (ComponentInstance, RawInstance) {
    let runtime = Runtime::new(Default::default()).expect("engine");
    let component = runtime
        .component(embedded::COMPONENT)
        .expect("embedded component loads");
    let raw = runtime
        .raw(embedded::CORE_MODULE)
        .expect("embedded core module loads");
    (
        component
            .instantiate()
            .await
            .expect("component instantiates"),
        raw.instantiate().await.expect("core module instantiates"),
    )
}

/// A single-threaded tokio runtime for tests that drive async calls from sync code (proptest).
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}
