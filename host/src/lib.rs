//! The runtime behind `boundary`: load a `transformer` guest, instantiate it, and call it across
//! the WebAssembly boundary, on any of the paths this crate implements.
//!
//! Every path implements the same two traits ([`Guest`] and [`Instance`], in [`path`]): the
//! component model ([`ComponentGuest`]) and the hand-written ptr/len ABI of
//! [`boundary_kernel::wire`] ([`RawGuest`]). Callers hold a [`Pool`] of instances over any of them.
//! [`batch`] streams many records, one JSON record per line, through one instance per worker
//! thread and writes them back in input order.
//!
//! ```no_run
//! # async fn demo(component_bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! use boundary_host::{ComponentGuest, Guest, Instance, Load, Pool, Runtime, SomeDataStruct};
//!
//! let runtime = Runtime::new(Default::default())?;
//! let guest = ComponentGuest::load(&runtime, component_bytes)?; // compiled and linked once
//!
//! let mut instance = guest.instantiate().await?; // cheap: from an `InstancePre`
//! let out = instance.transform(&SomeDataStruct::example()).await?;
//! assert_eq!(out.value.names.last().map(String::as_str), Some("new name"));
//!
//! let pool = Pool::new(guest, 4); // instances reused across calls and tasks
//! let label = pool.button_text("DONE").await?;
//! assert_eq!(label.value, "delete");
//! # Ok(()) }
//! ```
//!
//! Every value a guest returns is checked before it is used: pointers and lengths against the
//! guest's memory size with checked arithmetic, output lengths against [`Limits::max_output_bytes`]
//! before anything is allocated, and the result region's alignment. Failures are [`CallError`]s;
//! problems with the guest file itself are [`LoadError`]s.

pub mod batch;
mod bindings;
pub mod cache;
pub mod component;
pub mod error;
mod guard;
pub mod inspect;
pub mod path;
mod pool;
pub mod raw;
mod runtime;

pub use boundary_kernel::{
    SomeDataStruct, button_text as native_button_text, transform as native_transform,
};
pub use cache::{CacheStats, CacheWriteError, CompiledCache};
pub use component::{ComponentGuest, ComponentInstance, SyncComponentInstance};
pub use error::{CallError, Fault, Limit, LoadError, read_guest_file};
pub use inspect::WasmKind;
pub use path::{AnyGuest, AnyInstance, Guest, Instance, Load, Registration, Variant, VariantCall};
pub use pool::Pool;
pub use raw::{RawGuest, RawInstance};

use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Bounds the host enforces on every store and call. Each is a library default and a CLI flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest encoded input the host will copy into a guest.
    pub max_input_bytes: u32,
    /// The largest output the host will copy out of a guest, checked before allocating. On the
    /// component path it is also the store's hostcall fuel, which caps what lifting may allocate.
    pub max_output_bytes: u32,
    /// The most linear memory one store may have, through a [`wasmtime::ResourceLimiter`].
    pub max_memory_bytes: usize,
    /// Wall-clock time one call (or one instantiation) may take, enforced by epoch interruption.
    pub deadline: Duration,
    /// Fuel per call, for deterministic limits; `None` turns fuel metering off.
    pub fuel: Option<u64>,
    /// The most native stack wasm code may use. Async calls run on a fiber whose stack the
    /// runtime sizes from this, so any value the engine accepts works.
    pub max_wasm_stack: usize,
    /// How instances are allocated.
    pub allocator: Allocator,
    /// The largest guest file [`Load::load_file`] reads.
    pub max_guest_file_bytes: u64,
    /// Whether a store call hook counts the entries into guest code
    /// ([`Traffic::guest_calls`]). The hook runs on every transition between host and guest: on
    /// the seed-sized record it adds up to about a tenth to a call (the "Call counting" section
    /// of bench/report.md), so a host that does not report the count turns it off.
    pub count_guest_calls: bool,
    /// Wasmtime's `Config::concurrency_support`: the component model's async machinery, which
    /// no call here uses (each store makes one call at a time). Only a build with this crate's
    /// `component-model-async` feature can turn it on; `just bench-concurrency` measures what it
    /// costs a synchronous call (bench/concurrency.md).
    pub concurrency_support: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 32 << 20,
            max_output_bytes: 32 << 20,
            max_memory_bytes: 64 << 20,
            deadline: Duration::from_secs(1),
            fuel: None,
            max_wasm_stack: 512 << 10,
            allocator: Allocator::OnDemand,
            max_guest_file_bytes: 64 << 20,
            count_guest_calls: true,
            concurrency_support: false,
        }
    }
}

/// Wasmtime's instance allocation strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allocator {
    /// Allocate memories and tables when an instance is created (wasmtime's default).
    #[default]
    OnDemand,
    /// Reserve slots up front and reuse them: faster instantiation, more virtual memory.
    Pooling,
}

/// A value a guest returned, with what it took to get it across the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Called<T> {
    /// The value.
    pub value: T,
    /// What crossed the boundary to get it.
    pub traffic: Traffic,
}

/// What one call moved across the boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Entries from the host into guest code, counted by a store call hook: exported functions,
    /// and the `cabi_realloc` calls the canonical ABI makes to place arguments. Always 0 when
    /// [`Limits::count_guest_calls`] is off.
    pub guest_calls: u32,
    /// Payload bytes copied from the host into guest memory.
    pub bytes_in: u64,
    /// Payload bytes copied from guest memory to the host.
    pub bytes_out: u64,
}

/// A configured engine and the limits every guest it loads runs under.
///
/// Load guests from it once, then instantiate them as often as needed.
#[derive(Debug, Clone)]
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    cache: Option<cache::SharedCache>,
}

impl Runtime {
    /// Creates an engine for both kinds of guest.
    ///
    /// # Errors
    ///
    /// [`LoadError::Engine`] if wasmtime rejects the configuration for this machine.
    pub fn new(limits: Limits) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(limits.fuel.is_some())
            .max_wasm_stack(limits.max_wasm_stack)
            // Async calls run wasm on a fiber, whose stack must hold the wasm stack and the host
            // frames around it: keep wasmtime's default margin (2 MiB fiber for 512 KiB of wasm).
            .async_stack_size(limits.max_wasm_stack.saturating_add(ASYNC_STACK_MARGIN))
            // Concurrent (component-model-async) execution is not used: every call here is one
            // call at a time per store. Off, a store sets up no concurrency state. Without the
            // `component-model-async` feature wasmtime has no such support to turn on; with it,
            // wasmtime 48 turns it on by default, so say which. bench/concurrency.md has what
            // it costs.
            .concurrency_support(limits.concurrency_support);
        if limits.allocator == Allocator::Pooling {
            let mut pooling = PoolingAllocationConfig::default();
            pooling
                .total_component_instances(64)
                .total_core_instances(128)
                .total_memories(128)
                .total_tables(128)
                .max_memory_size(limits.max_memory_bytes);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        }
        let engine = Engine::new(&config).map_err(LoadError::engine)?;
        runtime::start_epoch_ticker(&engine).map_err(|e| LoadError::Engine(e.into()))?;
        Ok(Self {
            engine,
            limits,
            cache: None,
        })
    }

    /// This runtime with compiled guests cached on disk: a guest whose bytes were compiled
    /// before, by a compatible engine, is loaded from `cache` instead of compiled again.
    #[must_use]
    pub fn with_cache(mut self, cache: CompiledCache) -> Self {
        self.cache = Some(std::sync::Arc::new(cache));
        self
    }

    /// The compiled-guest cache, if this runtime has one.
    pub fn cache(&self) -> Option<&CompiledCache> {
        self.cache.as_deref()
    }

    /// Compiles a component, through the cache when there is one.
    pub(crate) fn compile_component(
        &self,
        bytes: &[u8],
    ) -> wasmtime::Result<wasmtime::component::Component> {
        match &self.cache {
            Some(cache) => cache.component(&self.engine, bytes),
            None => wasmtime::component::Component::new(&self.engine, bytes),
        }
    }

    /// Compiles a core module, through the cache when there is one.
    pub(crate) fn compile_module(&self, bytes: &[u8]) -> wasmtime::Result<wasmtime::Module> {
        match &self.cache {
            Some(cache) => cache.module(&self.engine, bytes),
            None => wasmtime::Module::new(&self.engine, bytes),
        }
    }

    /// The engine guests are compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits calls run under.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// Room on an async call's fiber stack beyond [`Limits::max_wasm_stack`], for host frames.
const ASYNC_STACK_MARGIN: usize = (2 << 20) - (512 << 10);
