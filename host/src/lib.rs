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

mod bindings;
pub mod component;
pub mod embedded;
mod error;
pub mod inspect;
pub mod raw;
pub mod serve;

pub use boundary_kernel::{
    SomeDataStruct, button_text as native_button_text, transform as native_transform,
};
pub use component::{ComponentGuest, ComponentInstance};
pub use error::{CallError, LoadError};
pub use raw::{RawGuest, RawInstance};

use wasmtime::{Config, Engine};

/// Bounds the host enforces on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest encoded input the host will copy into a guest.
    pub max_input_bytes: u32,
    /// The largest output the host will copy out of a guest; checked before allocating.
    pub max_output_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 32 << 20,
            max_output_bytes: 32 << 20,
        }
    }
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
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
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
