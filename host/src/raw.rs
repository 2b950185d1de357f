//! The hand-written ptr/len path: a core module, guest memory, and the ABI of
//! [`boundary_kernel::wire`].
//!
//! Nothing a guest returns is trusted. Every address and length is checked with checked
//! arithmetic against the memory's size at the moment it is used, the output length is checked
//! against [`Limits::max_output_bytes`] before anything is allocated for it, and the 8-byte
//! result region is read as two little-endian `u32`s from a bounds-checked slice, never by
//! casting memory to a struct.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire::{self, RESULT_ALIGN, RESULT_SIZE, ResultRegion};
use serde::de::DeserializeOwned;
use wasmtime::{ExternType, InstancePre, Linker, Memory, Module, Store, TypedFunc};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::component::reuse;
use crate::error::{CallError, LoadError, one_line};
use crate::guard::{self, Guard};
use crate::{Called, Limits, Runtime, Traffic, inspect};

/// The exports of the ptr/len ABI and their core types, as `inspect` writes them.
const REQUIRED: [(&str, &str); 4] = [
    ("memory", "memory"),
    ("ns_malloc", "func(i32, i32) -> i32"),
    ("ns_free", "func(i32, i32, i32)"),
    ("entry_point", "func(i32, i32) -> i32"),
];
/// Optional: a module without it can still transform.
const BUTTON_TEXT: (&str, &str) = ("button_text", "func(i32, i32) -> i32");
/// The only import module the host provides: WASI preview 1, with nothing granted.
const WASI_P1: &str = "wasi_snapshot_preview1";

/// Per-store state of a core instance.
struct RawState {
    /// WASI preview 1 with nothing granted, linked so that modules built for `wasm32-wasip1`
    /// (whose standard library imports it) instantiate.
    wasi: WasiP1Ctx,
    guard: Guard,
}

fn guard(state: &mut RawState) -> &mut Guard {
    &mut state.guard
}

/// A core module that speaks the ptr/len ABI, compiled and linked once.
///
/// Cloning is cheap and shares the compiled code.
#[derive(Clone)]
pub struct RawGuest {
    runtime: Runtime,
    pre: InstancePre<RawState>,
    has_button_text: bool,
    /// The instance [`RawGuest::transform`] and [`RawGuest::button_text`] reuse.
    /// How many instances [`RawGuest::instantiate`] has created.
    created: Arc<AtomicU64>,
    cached: Arc<Mutex<Option<RawInstance>>>,
}

impl std::fmt::Debug for RawGuest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawGuest")
            .field("has_button_text", &self.has_button_text)
            .finish_non_exhaustive()
    }
}

impl RawGuest {
    /// Compiles `bytes` as a core module and checks its imports and exports against the ABI.
    ///
    /// # Errors
    ///
    /// [`LoadError::NotWasm`] or [`LoadError::WrongKind`] for bytes that are not a core module,
    /// [`LoadError::MissingExport`] or [`LoadError::WrongExportType`] for a module without the
    /// ABI, [`LoadError::UnsupportedImport`] for imports other than WASI preview 1, and
    /// [`LoadError::Invalid`] when wasmtime rejects it.
    pub fn new(runtime: &Runtime, bytes: &[u8]) -> Result<Self, LoadError> {
        inspect::expect_kind(bytes, inspect::WasmKind::CoreModule)?;
        let module =
            Module::new(runtime.engine(), bytes).map_err(|e| LoadError::Invalid(one_line(&e)))?;
        if let Some(import) = module.imports().find(|i| i.module() != WASI_P1) {
            return Err(LoadError::UnsupportedImport {
                name: format!("{}::{}", import.module(), import.name()),
            });
        }
        for (name, expected) in REQUIRED {
            check_export(&module, name, expected)?;
        }
        let has_button_text = module.get_export(BUTTON_TEXT.0).is_some();
        if has_button_text {
            check_export(&module, BUTTON_TEXT.0, BUTTON_TEXT.1)?;
        }

        let mut linker = Linker::new(runtime.engine());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state: &mut RawState| &mut state.wasi)
            .map_err(|e| LoadError::Invalid(one_line(&e)))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| LoadError::Invalid(one_line(&e)))?;
        Ok(Self {
            runtime: runtime.clone(),
            pre,
            has_button_text,
            created: Arc::default(),
            cached: Arc::default(),
        })
    }

    /// Calls `entry_point` on a reused instance. After any error but one the guest reported
    /// (or an input refused before the call), the instance is dropped and the next call gets a
    /// fresh one.
    ///
    /// # Errors
    ///
    /// As [`RawGuest::instantiate`] and [`RawInstance::transform`].
    pub async fn transform(
        &self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        reuse(
            &self.cached,
            async || self.instantiate().await,
            async |instance| instance.transform(input).await,
        )
        .await
    }

    /// Calls `button_text` on a reused instance, as [`RawGuest::transform`] does.
    ///
    /// # Errors
    ///
    /// As [`RawGuest::instantiate`] and [`RawInstance::button_text`].
    pub async fn button_text(&self, status: &str) -> Result<Called<String>, CallError> {
        reuse(
            &self.cached,
            async || self.instantiate().await,
            async |instance| instance.button_text(status).await,
        )
        .await
    }

    /// Reads and compiles a core module file.
    ///
    /// # Errors
    ///
    /// [`LoadError::Read`] if the file cannot be read, then as [`RawGuest::new`].
    pub fn from_file(runtime: &Runtime, path: &Path) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::new(runtime, &bytes)
    }

    /// How many instances this guest (and its clones) has created so far. After a call fails
    /// in a way that leaves its instance unusable, the next call creates a fresh one.
    pub fn instances_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// Creates a fresh instance in its own store.
    ///
    /// # Errors
    ///
    /// [`CallError::Instantiate`] if the module's start function traps.
    pub async fn instantiate(&self) -> Result<RawInstance, CallError> {
        self.created.fetch_add(1, Ordering::Relaxed);
        let state = RawState {
            wasi: WasiCtxBuilder::new().build_p1(),
            guard: Guard::new(self.runtime.limits()),
        };
        let mut store = Store::new(self.runtime.engine(), state);
        guard::install(&mut store, guard);
        let instance = match self.pre.instantiate_async(&mut store).await {
            Ok(instance) => instance,
            Err(e) => {
                return Err(match guard::classify(e, &store.data().guard) {
                    CallError::Trap(message) => CallError::Instantiate(message),
                    other => other,
                });
            }
        };
        // The exports' types were checked in `RawGuest::new`, so these lookups only fail if
        // wasmtime disagrees with that check; report it rather than panic.
        let lookup = |e: wasmtime::Error| CallError::Instantiate(one_line(&e));
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(CallError::MissingExport("memory"))?;
        let ns_malloc = instance
            .get_typed_func(&mut store, "ns_malloc")
            .map_err(lookup)?;
        let ns_free = instance
            .get_typed_func(&mut store, "ns_free")
            .map_err(lookup)?;
        let entry_point = instance
            .get_typed_func(&mut store, "entry_point")
            .map_err(lookup)?;
        let button_text = if self.has_button_text {
            Some(
                instance
                    .get_typed_func(&mut store, BUTTON_TEXT.0)
                    .map_err(lookup)?,
            )
        } else {
            None
        };
        Ok(RawInstance {
            store,
            memory,
            ns_malloc,
            ns_free,
            entry_point,
            button_text,
            limits: self.runtime.limits(),
        })
    }
}

fn check_export(module: &Module, name: &str, expected: &str) -> Result<(), LoadError> {
    let Some(ty) = module.get_export(name) else {
        return Err(LoadError::MissingExport {
            name: name.to_owned(),
            expected: expected.to_owned(),
        });
    };
    let found = inspect::describe_extern(&ty);
    let matches = match &ty {
        // Any minimum size; a 64-bit memory is not what the ABI's i32 addresses point into.
        ExternType::Memory(memory) => expected == "memory" && !memory.is_64(),
        _ => found == expected,
    };
    if matches {
        Ok(())
    } else {
        Err(LoadError::WrongExportType {
            name: name.to_owned(),
            expected: expected.to_owned(),
            found,
        })
    }
}

type ExchangeFunc = TypedFunc<(u32, u32), u32>;

/// One instance of a ptr/len guest, for many calls.
///
/// After a call returns an error other than [`CallError::Guest`], drop the instance: the guest's
/// memory may be in any state.
pub struct RawInstance {
    store: Store<RawState>,
    memory: Memory,
    ns_malloc: TypedFunc<(u32, u32), u32>,
    ns_free: TypedFunc<(u32, u32, u32), ()>,
    entry_point: ExchangeFunc,
    button_text: Option<ExchangeFunc>,
    limits: Limits,
}

impl std::fmt::Debug for RawInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawInstance").finish_non_exhaustive()
    }
}

impl RawInstance {
    /// Transforms a record through `entry_point`.
    ///
    /// # Errors
    ///
    /// Any [`CallError`]: see [`RawInstance::exchange`].
    pub async fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let bytes = wire::encode(input).map_err(|e| CallError::Decode(e.to_string()))?;
        let entry_point = self.entry_point.clone();
        self.exchange(entry_point, &bytes).await
    }

    /// Sends `bytes` to `entry_point` as they are, without encoding a record: for testing how a
    /// guest handles input no honest host would send (random bytes, huge length prefixes,
    /// trailing bytes).
    ///
    /// # Errors
    ///
    /// As [`RawInstance::transform`]; a guest that rejects the bytes gives [`CallError::Guest`].
    pub async fn transform_bytes(
        &mut self,
        bytes: &[u8],
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let entry_point = self.entry_point.clone();
        self.exchange(entry_point, bytes).await
    }

    /// Labels a button through `button_text`.
    ///
    /// # Errors
    ///
    /// [`CallError::MissingExport`] if the module has no `button_text`; otherwise as
    /// [`RawInstance::transform`].
    pub async fn button_text(&mut self, status: &str) -> Result<Called<String>, CallError> {
        let func = self
            .button_text
            .clone()
            .ok_or(CallError::MissingExport("button_text"))?;
        let bytes = wire::encode(status).map_err(|e| CallError::Decode(e.to_string()))?;
        self.exchange(func, &bytes).await
    }

    /// One round trip of the ABI: allocate, write, call, check, read, decode, free.
    ///
    /// # Errors
    ///
    /// - [`CallError::InputTooLarge`] before anything is called;
    /// - [`CallError::AllocFailed`] when `ns_malloc` returns 0;
    /// - [`CallError::OutOfBounds`], [`CallError::Misaligned`] or [`CallError::OutputTooLarge`]
    ///   when the guest returns an address or length that does not hold;
    /// - [`CallError::Decode`] when the output is not a valid response;
    /// - [`CallError::Guest`] when the response is the guest's error;
    /// - [`CallError::Trap`] when guest code traps.
    async fn exchange<T: DeserializeOwned>(
        &mut self,
        func: ExchangeFunc,
        input: &[u8],
    ) -> Result<Called<T>, CallError> {
        let max_input = self.limits.max_input_bytes;
        let len = u32::try_from(input.len())
            .ok()
            .filter(|len| *len <= max_input)
            .ok_or(CallError::InputTooLarge {
                len: input.len() as u64,
                max: max_input,
            })?;
        guard::arm(&mut self.store, guard);

        let in_ptr = self
            .ns_malloc
            .call_async(&mut self.store, (len, 1))
            .await
            .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        if in_ptr == 0 && len > 0 {
            return Err(CallError::AllocFailed { size: len });
        }
        let in_range = self.guest_range("the input buffer from ns_malloc", in_ptr, len)?;
        self.memory.data_mut(&mut self.store)[in_range].copy_from_slice(input);

        let region_ptr = func
            .call_async(&mut self.store, (in_ptr, len))
            .await
            .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        if region_ptr % RESULT_ALIGN != 0 {
            return Err(CallError::Misaligned {
                ptr: region_ptr,
                align: RESULT_ALIGN,
            });
        }
        let region_range = self.guest_range("the result region", region_ptr, RESULT_SIZE)?;
        let mut region_bytes = [0; RESULT_SIZE as usize];
        region_bytes.copy_from_slice(&self.memory.data(&self.store)[region_range]);
        let region = ResultRegion::from_le_bytes(region_bytes);
        if region.len > self.limits.max_output_bytes {
            return Err(CallError::OutputTooLarge {
                len: region.len,
                max: self.limits.max_output_bytes,
            });
        }
        let out_range = self.guest_range("the output", region.ptr, region.len)?;
        // Decoded straight from guest memory: the only copy is into the host's own values.
        let response: Result<wire::Response<T>, _> =
            wire::decode_exact(&self.memory.data(&self.store)[out_range]);

        for (ptr, size, align) in [
            (in_ptr, len, 1),
            (region.ptr, region.len, 1),
            (region_ptr, RESULT_SIZE, RESULT_ALIGN),
        ] {
            self.ns_free
                .call_async(&mut self.store, (ptr, size, align))
                .await
                .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        }

        let value = response.map_err(|e| CallError::Decode(e.to_string()))??;
        Ok(Called {
            value,
            traffic: Traffic {
                guest_calls: self.store.data().guard.guest_calls,
                bytes_in: u64::from(len),
                bytes_out: u64::from(RESULT_SIZE) + u64::from(region.len),
            },
        })
    }

    /// `[ptr, ptr + len)` as a range into guest memory, if it lies inside the memory as it is now.
    fn guest_range(
        &self,
        what: &'static str,
        ptr: u32,
        len: u32,
    ) -> Result<Range<usize>, CallError> {
        let memory_size = self.memory.data_size(&self.store);
        let out_of_bounds = || CallError::OutOfBounds {
            what,
            ptr,
            len,
            memory_size: memory_size as u64,
        };
        let start = usize::try_from(ptr).map_err(|_| out_of_bounds())?;
        let end = start
            .checked_add(usize::try_from(len).map_err(|_| out_of_bounds())?)
            .ok_or_else(out_of_bounds)?;
        if end > memory_size {
            return Err(out_of_bounds());
        }
        Ok(start..end)
    }
}
