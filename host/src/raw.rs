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
/// The tuned exports (see [`boundary_kernel::wire`]): optional, all or none. A module without them
/// still runs every other path.
const TUNED: [(&str, &str); 4] = [
    ("entry_point_borrowed", "func(i32, i32) -> i32"),
    ("entry_point_consume", "func(i32, i32) -> i32"),
    ("input_buffer", "func(i32) -> i32"),
    ("entry_point_tuned", "func(i32) -> i32"),
];
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
    has_tuned: bool,
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
        let has_tuned = TUNED
            .iter()
            .all(|(name, expected)| check_export(&module, name, expected).is_ok());
        Ok(Self {
            runtime: runtime.clone(),
            pre,
            has_button_text,
            has_tuned,
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
        let bytes = LoadError::read_file(path)?;
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
        let tuned = if self.has_tuned {
            Some(TunedExports {
                borrowed: instance
                    .get_typed_func(&mut store, TUNED[0].0)
                    .map_err(lookup)?,
                consume: instance
                    .get_typed_func(&mut store, TUNED[1].0)
                    .map_err(lookup)?,
                input_buffer: instance
                    .get_typed_func(&mut store, TUNED[2].0)
                    .map_err(lookup)?,
                entry_point_tuned: instance
                    .get_typed_func(&mut store, TUNED[3].0)
                    .map_err(lookup)?,
            })
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
            tuned,
            input_buffer: None,
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

/// The optional exports of the tuned ABI.
#[derive(Clone)]
struct TunedExports {
    borrowed: ExchangeFunc,
    consume: ExchangeFunc,
    input_buffer: TypedFunc<u32, u32>,
    entry_point_tuned: TypedFunc<u32, u32>,
}

/// How [`RawInstance::exchange`] treats the output and the input buffer.
#[derive(Debug, Clone, Copy, Default)]
struct Mode {
    /// Copy the output into a host `Vec` before decoding it, as the seed chapter did, instead of
    /// decoding straight from guest memory.
    copy_output: bool,
    /// The export frees its own input, so the host does not call `ns_free` on it.
    guest_frees_input: bool,
}

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
    tuned: Option<TunedExports>,
    /// The tuned path's input buffer as `input_buffer` last returned it: address and size.
    input_buffer: Option<(u32, u32)>,
    limits: Limits,
}

impl std::fmt::Debug for RawInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawInstance").finish_non_exhaustive()
    }
}

impl RawInstance {
    /// The guest's linear memory, in bytes, as far as it has grown. Flat across calls once
    /// warmed up: the guest frees what each call allocates.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().guard.memory_bytes
    }

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
        self.exchange(entry_point, &bytes, Mode::default()).await
    }

    /// Transforms a record as the seed chapter did: serialize, `ns_malloc`, write,
    /// `entry_point`, read the region, copy the output into a host `Vec`, decode it, and free
    /// all three allocations. Checked like [`RawInstance::transform`].
    ///
    /// # Errors
    ///
    /// As [`RawInstance::transform`].
    pub async fn transform_seed(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let bytes = wire::encode(input).map_err(|e| CallError::Decode(e.to_string()))?;
        let entry_point = self.entry_point.clone();
        let mode = Mode {
            copy_output: true,
            ..Mode::default()
        };
        self.exchange(entry_point, &bytes, mode).await
    }

    /// As [`RawInstance::transform`], through `entry_point_borrowed`: the guest decodes the
    /// input's strings as borrowed slices.
    ///
    /// # Errors
    ///
    /// [`CallError::MissingExport`] for a module without the tuned exports; otherwise as
    /// [`RawInstance::transform`].
    pub async fn transform_borrowed(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let func = self.tuned()?.borrowed;
        let bytes = wire::encode(input).map_err(|e| CallError::Decode(e.to_string()))?;
        self.exchange(func, &bytes, Mode::default()).await
    }

    /// As [`RawInstance::transform_borrowed`], through `entry_point_consume`, which also frees
    /// its input: one `ns_free` fewer per call.
    ///
    /// # Errors
    ///
    /// As [`RawInstance::transform_borrowed`].
    pub async fn transform_consume(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let func = self.tuned()?.consume;
        let bytes = wire::encode(input).map_err(|e| CallError::Decode(e.to_string()))?;
        let mode = Mode {
            guest_frees_input: true,
            ..Mode::default()
        };
        self.exchange(func, &bytes, mode).await
    }

    /// The tuned ptr/len path: one call into the guest per transform once its buffers are
    /// large enough.
    ///
    /// The host serializes the record straight into the guest's reusable input buffer (asking
    /// `input_buffer` for a larger one only when it does not fit), calls
    /// `entry_point_tuned(len)`, and decodes the output straight from guest memory. The guest
    /// decodes with borrowed strings and keeps its output buffer and result region, so nothing
    /// is freed and, on an instance kept across calls, memory stops growing. Every address and
    /// length is checked as on the other paths.
    ///
    /// # Errors
    ///
    /// [`CallError::MissingExport`] for a module without the tuned exports; otherwise as
    /// [`RawInstance::transform`].
    pub async fn transform_tuned(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let tuned = self.tuned()?;
        guard::arm(&mut self.store, guard);
        // Serialize straight into the buffer the guest lent last time, if it fits. Its size
        // was checked against `max_input_bytes` when it was asked for.
        let mut written = None;
        if let Some((ptr, size)) = self.input_buffer {
            let range = self.guest_range("the cached input buffer", ptr, size)?;
            let memory = &mut self.memory.data_mut(&mut self.store)[range];
            written = postcard::to_slice(input, memory)
                .ok()
                .map(|used| used.len());
        }
        let len = match written {
            // At most `size`, a `u32`.
            Some(len) => u32::try_from(len).unwrap_or(u32::MAX),
            None => {
                let bytes = wire::encode(input).map_err(|e| CallError::Decode(e.to_string()))?;
                let len = self.check_input_len(bytes.len())?;
                self.input_buffer = None;
                let ptr = tuned
                    .input_buffer
                    .call_async(&mut self.store, len)
                    .await
                    .map_err(|e| guard::classify(e, &self.store.data().guard))?;
                if ptr == 0 && len > 0 {
                    return Err(CallError::AllocFailed { size: len });
                }
                let range = self.guest_range("the input buffer from input_buffer", ptr, len)?;
                self.memory.data_mut(&mut self.store)[range].copy_from_slice(&bytes);
                self.input_buffer = Some((ptr, len));
                len
            }
        };
        let region_ptr = tuned
            .entry_point_tuned
            .call_async(&mut self.store, len)
            .await
            .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        let (region, out_range) = self.output(region_ptr)?;
        let response: Result<wire::Response<SomeDataStruct>, _> =
            wire::decode_exact(&self.memory.data(&self.store)[out_range]);
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

    /// The size of the guest's linear memory now, in bytes.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    fn tuned(&self) -> Result<TunedExports, CallError> {
        self.tuned
            .clone()
            .ok_or(CallError::MissingExport("entry_point_tuned"))
    }

    fn check_input_len(&self, len: usize) -> Result<u32, CallError> {
        let max_input = self.limits.max_input_bytes;
        u32::try_from(len)
            .ok()
            .filter(|len| *len <= max_input)
            .ok_or(CallError::InputTooLarge {
                len: len as u64,
                max: max_input,
            })
    }

    /// Reads and checks the result region at `region_ptr`: its alignment and bounds, then the
    /// output's length against the limit and its bounds.
    fn output(&self, region_ptr: u32) -> Result<(ResultRegion, Range<usize>), CallError> {
        if !region_ptr.is_multiple_of(RESULT_ALIGN) {
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
        Ok((region, out_range))
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
        self.exchange(entry_point, bytes, Mode::default()).await
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
        self.exchange(func, &bytes, Mode::default()).await
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
        mode: Mode,
    ) -> Result<Called<T>, CallError> {
        let len = self.check_input_len(input.len())?;
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
        let (region, out_range) = self.output(region_ptr)?;
        let response: Result<wire::Response<T>, _> = if mode.copy_output {
            // The seed's way: the output into a host buffer first, then decoded from there.
            let copied = self.memory.data(&self.store)[out_range].to_vec();
            wire::decode_exact::<wire::Response<T>>(&copied)
        } else {
            // Decoded straight from guest memory: the only copy is into the host's own values.
            wire::decode_exact(&self.memory.data(&self.store)[out_range])
        };

        let frees = [
            (in_ptr, len, 1),
            (region.ptr, region.len, 1),
            (region_ptr, RESULT_SIZE, RESULT_ALIGN),
        ];
        let frees = if mode.guest_frees_input {
            &frees[1..]
        } else {
            &frees[..]
        };
        for &(ptr, size, align) in frees {
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
