//! One shape for every path across the boundary.
//!
//! A *path* is a way to run the kernel in a guest: the component model, the hand-written ptr/len
//! ABI, and whatever comes next. Each implements three traits:
//!
//! - [`Load`]: compile and check a guest of the path from bytes or a file;
//! - [`Guest`]: a loaded guest, cheap to clone, that makes instances;
//! - [`Instance`]: one instance in its own store, called many times.
//!
//! Callers that do not know which path they hold use the erased forms, [`AnyGuest`] and
//! [`AnyInstance`], which implement the same traits; [`crate::Pool`] works over either. Adding a
//! path means implementing these traits and registering it once (see `boundary-guests`).

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use boundary_kernel::SomeDataStruct;

use crate::error::{CallError, LoadError, read_guest_file};
use crate::inspect::WasmKind;
use crate::{Called, Runtime};

/// A future that can move between threads, boxed: what the erased traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A loaded guest of one path: compiled and linked once, cheap to clone, makes instances.
pub trait Guest: Clone + Send + Sync + 'static {
    /// One instance of this guest.
    type Instance: Instance;

    /// Creates a fresh instance in its own store. Cheap: compiling and linking happened when
    /// the guest was loaded.
    ///
    /// # Errors
    ///
    /// [`CallError::Instantiate`] if the guest's start-up code fails, or a limit it runs into.
    fn instantiate(&self) -> impl Future<Output = Result<Self::Instance, CallError>> + Send;

    /// How many instances this guest and its clones have created.
    fn instances_created(&self) -> u64;
}

/// One instance of a guest, for many calls.
pub trait Instance: Send + 'static {
    /// Calls the contract's `transform`.
    ///
    /// # Errors
    ///
    /// Any [`CallError`]; after one, ask [`Instance::is_reusable_after`] before calling again.
    fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> impl Future<Output = Result<Called<SomeDataStruct>, CallError>> + Send;

    /// Calls the contract's `button-text`.
    ///
    /// # Errors
    ///
    /// As [`Instance::transform`].
    fn button_text(
        &mut self,
        status: &str,
    ) -> impl Future<Output = Result<Called<String>, CallError>> + Send;

    /// The guest's linear memory, in bytes, as far as it has grown.
    fn memory_bytes(&self) -> usize;

    /// Whether this instance may be called again after `error`. Every path follows
    /// [`CallError::instance_is_reusable`]; this is where a path would say otherwise.
    fn is_reusable_after(&self, error: &CallError) -> bool {
        error.instance_is_reusable()
    }
}

/// How a path loads its guests.
pub trait Load: Guest + Sized {
    /// The kind of wasm file this path runs: how a guest file is matched to its path.
    const KIND: WasmKind;

    /// Compiles `bytes` and checks them against the path's contract.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] naming what does not match.
    fn load(runtime: &Runtime, bytes: &[u8]) -> Result<Self, LoadError>;

    /// Reads a guest file (at most [`crate::Limits::max_guest_file_bytes`], regular files only)
    /// and loads it.
    ///
    /// # Errors
    ///
    /// As [`read_guest_file`], then as [`Load::load`].
    fn load_file(runtime: &Runtime, path: &Path) -> Result<Self, LoadError> {
        let bytes = read_guest_file(path, runtime.limits().max_guest_file_bytes)?;
        Self::load(runtime, &bytes)
    }

    /// Other ways this path can make the same `transform` call, for the benchmark and the tests
    /// to compare: each must give the same output as [`Instance::transform`].
    fn variants() -> Vec<Variant<Self>> {
        Vec::new()
    }
}

/// A synchronous `transform`, ready to be called many times: what a [`Variant`] prepares.
pub type VariantCall =
    Box<dyn FnMut(&SomeDataStruct) -> Result<Called<SomeDataStruct>, CallError> + Send>;

/// A named way to call a path's `transform`, beside the default [`Instance::transform`].
pub struct Variant<G> {
    /// Short name, unique within the path: `sync`, `tuned`, ...
    pub name: &'static str,
    /// One line on what it does differently.
    pub about: &'static str,
    /// Sets up whatever the variant calls (an instance, buffers) and returns the call.
    pub prepare: fn(&G) -> Result<VariantCall, CallError>,
}

impl<G> fmt::Debug for Variant<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variant")
            .field("name", &self.name)
            .field("about", &self.about)
            .finish_non_exhaustive()
    }
}

/// Runs an async call to completion on the current thread, for [`Variant`]s of async
/// instances.
pub fn block_on<F: Future>(future: F) -> F::Output {
    wasmtime_wasi::runtime::in_tokio(future)
}

/// A path as the registry lists it: its name, what it is, and its default guest.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// Short name, as `--path` takes it: `component`, `raw`.
    pub name: &'static str,
    /// One line on how data crosses the boundary on this path.
    pub about: &'static str,
    /// The file name the default guest is written to (`boundary inspect --write-guests`).
    pub file_name: &'static str,
    /// The default guest's bytes.
    pub default_guest: &'static [u8],
}

/// A guest of any path, behind one type: what a caller holds when the path is chosen at run time.
#[derive(Clone)]
pub struct AnyGuest {
    registration: Registration,
    kind: WasmKind,
    inner: Arc<dyn DynGuest>,
}

impl fmt::Debug for AnyGuest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyGuest")
            .field("path", &self.registration.name)
            .finish_non_exhaustive()
    }
}

impl AnyGuest {
    /// Erases a loaded guest of path `G`.
    pub fn new<G: Load>(registration: Registration, guest: G) -> Self {
        Self {
            registration,
            kind: G::KIND,
            inner: Arc::new(guest),
        }
    }

    /// The path this guest belongs to.
    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    /// The path's name.
    pub fn name(&self) -> &'static str {
        self.registration.name
    }

    /// The kind of wasm the path runs.
    pub fn kind(&self) -> WasmKind {
        self.kind
    }
}

impl Guest for AnyGuest {
    type Instance = AnyInstance;

    async fn instantiate(&self) -> Result<AnyInstance, CallError> {
        self.inner.instantiate_dyn().await.map(AnyInstance)
    }

    fn instances_created(&self) -> u64 {
        self.inner.instances_created_dyn()
    }
}

/// An instance of any path.
pub struct AnyInstance(Box<dyn DynInstance>);

impl fmt::Debug for AnyInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyInstance").finish_non_exhaustive()
    }
}

impl Instance for AnyInstance {
    async fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        self.0.transform_dyn(input).await
    }

    async fn button_text(&mut self, status: &str) -> Result<Called<String>, CallError> {
        self.0.button_text_dyn(status).await
    }

    fn memory_bytes(&self) -> usize {
        self.0.memory_bytes_dyn()
    }

    fn is_reusable_after(&self, error: &CallError) -> bool {
        self.0.is_reusable_after_dyn(error)
    }
}

/// [`Guest`] with its futures boxed, so that it can sit behind `dyn`.
trait DynGuest: Send + Sync {
    fn instantiate_dyn(&self) -> BoxFuture<'_, Result<Box<dyn DynInstance>, CallError>>;
    fn instances_created_dyn(&self) -> u64;
}

impl<G: Guest> DynGuest for G {
    fn instantiate_dyn(&self) -> BoxFuture<'_, Result<Box<dyn DynInstance>, CallError>> {
        Box::pin(async move {
            let instance = self.instantiate().await?;
            Ok(Box::new(instance) as Box<dyn DynInstance>)
        })
    }

    fn instances_created_dyn(&self) -> u64 {
        self.instances_created()
    }
}

/// [`Instance`] with its futures boxed.
trait DynInstance: Send {
    fn transform_dyn<'a>(
        &'a mut self,
        input: &'a SomeDataStruct,
    ) -> BoxFuture<'a, Result<Called<SomeDataStruct>, CallError>>;
    fn button_text_dyn<'a>(
        &'a mut self,
        status: &'a str,
    ) -> BoxFuture<'a, Result<Called<String>, CallError>>;
    fn memory_bytes_dyn(&self) -> usize;
    fn is_reusable_after_dyn(&self, error: &CallError) -> bool;
}

impl<I: Instance> DynInstance for I {
    fn transform_dyn<'a>(
        &'a mut self,
        input: &'a SomeDataStruct,
    ) -> BoxFuture<'a, Result<Called<SomeDataStruct>, CallError>> {
        Box::pin(self.transform(input))
    }

    fn button_text_dyn<'a>(
        &'a mut self,
        status: &'a str,
    ) -> BoxFuture<'a, Result<Called<String>, CallError>> {
        Box::pin(self.button_text(status))
    }

    fn memory_bytes_dyn(&self) -> usize {
        self.memory_bytes()
    }

    fn is_reusable_after_dyn(&self, error: &CallError) -> bool {
        self.is_reusable_after(error)
    }
}
