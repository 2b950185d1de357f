//! The host's integration tests: one binary, one module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod differential;
mod hostile;
mod inspect;
mod pool;

use boundary_host::{
    AnyInstance, ComponentGuest, ComponentInstance, Guest, Limits, Load, RawGuest, RawInstance,
    Runtime,
};

/// A runtime with the default limits and one fresh instance of every registered path's default
/// guest, named.
pub async fn every_path() -> Vec<(&'static str, AnyInstance)> {
    every_path_with(Limits::default()).await
}

/// As [`every_path`], on a runtime with `limits`.
pub async fn every_path_with(limits: Limits) -> Vec<(&'static str, AnyInstance)> {
    let runtime = Runtime::new(limits).expect("engine");
    let mut instances = Vec::new();
    for path in boundary_guests::paths() {
        let guest = path.load_default(&runtime).expect("a default guest loads");
        let instance = guest
            .instantiate()
            .await
            .expect("a default guest instantiates");
        instances.push((path.name(), instance));
    }
    assert!(instances.len() >= 2, "the registry lists every path");
    instances
}

/// One fresh instance of each of the two paths this crate implements, by their concrete types.
pub async fn instances() -> (ComponentInstance, RawInstance) {
    let runtime = Runtime::new(Default::default()).expect("engine");
    let component = ComponentGuest::load(&runtime, boundary_guests::COMPONENT)
        .expect("embedded component loads");
    let raw =
        RawGuest::load(&runtime, boundary_guests::CORE_MODULE).expect("embedded core module loads");
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

/// Runs `future` and counts the bytes this thread allocated while it ran.
pub async fn allocated_during<F: Future>(future: F) -> (F::Output, u64) {
    let before = counting::allocated();
    let output = future.await;
    (output, counting::allocated() - before)
}

/// A global allocator that counts, per thread, the bytes allocated: the proof that refusing a
/// huge length allocates only a small, bounded amount.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    }

    pub fn allocated() -> u64 {
        ALLOCATED.try_with(Cell::get).unwrap_or(0)
    }

    fn count(bytes: usize) {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + bytes as u64));
    }

    struct Counting;

    // SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
    // `System`'s guarantees hold; counting touches only a thread-local `Cell`, which allocates
    // nothing.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: forwarded from the caller, who upholds `GlobalAlloc::alloc`'s contract.
            unsafe { System.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: as for `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded from the caller, who upholds `GlobalAlloc::dealloc`'s contract.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size.saturating_sub(layout.size()));
            // SAFETY: forwarded from the caller, who upholds `GlobalAlloc::realloc`'s contract.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}
