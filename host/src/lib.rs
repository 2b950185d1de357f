//! Runs a `transformer` guest two ways: through the component model ([`ComponentGuest`]) and
//! through the hand-written ptr/len ABI of [`boundary_kernel::wire`] ([`RawGuest`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use boundary_host::{Runtime, SomeDataStruct, embedded};
//!
//! let runtime = Runtime::new(Default::default())?;
//! let component = runtime.component(embedded::COMPONENT)?; // compiled and linked once
//! let raw = runtime.raw(embedded::CORE_MODULE)?;
//!
//! let mut instance = component.instantiate().await?; // cheap: from an `InstancePre`
//! let out = instance.transform(&SomeDataStruct::example()).await?;
//! assert_eq!(out.value, raw.instantiate().await?.transform(&SomeDataStruct::example()).await?.value);
//! # Ok(()) }
//! ```
//!
//! Every value a guest returns is checked before it is used: pointers and lengths against the
//! guest's memory size with checked arithmetic, output lengths against [`Limits::max_output_bytes`]
//! before anything is allocated, and the result region's alignment. Failures are [`CallError`]s;
//! problems with the guest file itself are [`LoadError`]s.

pub mod bench;
mod bindings;
pub mod component;
pub mod embedded;
mod error;
mod guard;
pub mod inspect;
pub mod raw;
mod runtime;
pub mod serve;

pub use boundary_kernel::{
    SomeDataStruct, button_text as native_button_text, transform as native_transform,
};
pub use component::{ComponentGuest, ComponentInstance, SyncComponentInstance};
pub use error::{CallError, LoadError};
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
    /// The most native stack wasm code may use.
    pub max_wasm_stack: usize,
    /// How instances are allocated.
    pub allocator: Allocator,
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
    /// and the `cabi_realloc` calls the canonical ABI makes to place arguments.
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
            .max_wasm_stack(limits.max_wasm_stack);
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
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        runtime::start_epoch_ticker(&engine)
            .map_err(|e| LoadError::Engine(format!("cannot start the deadline clock: {e}")))?;
        Ok(Self { engine, limits })
    }

    /// The engine guests are compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits calls run under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Compiles and links a component that implements the `transformer` world.
    ///
    /// # Errors
    ///
    /// See [`ComponentGuest::new`].
    pub fn component(&self, bytes: &[u8]) -> Result<ComponentGuest, LoadError> {
        ComponentGuest::new(self, bytes)
    }

    /// Compiles and links a core module that speaks the ptr/len ABI.
    ///
    /// # Errors
    ///
    /// See [`RawGuest::new`].
    pub fn raw(&self, bytes: &[u8]) -> Result<RawGuest, LoadError> {
        RawGuest::new(self, bytes)
    }
}
