//! The hand-written ptr/len path: a core module, guest memory, and the ABI of
//! [`boundary_kernel::wire`].
//!
//! Nothing a guest returns is trusted. Every address and length is checked with checked
//! arithmetic against the memory's size at the moment it is used, the output length is checked
//! against [`Limits::max_output_bytes`] before anything is allocated for it, and the 8-byte
//! result region is read as two little-endian `u32`s from a bounds-checked slice, never by
//! casting memory to a struct.
//!
//! This file loads and instantiates a module; [`instance`] makes the calls.

mod instance;

pub use instance::RawInstance;
pub(crate) use instance::TunedExports;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire::{self, EXPORTS, ExportType, Need};
use wasmtime::{ExternType, InstancePre, Linker, Module, Store, TypedFunc, ValType};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::Runtime;
use crate::error::{CallError, LoadError, wasmtime_one_line};
use crate::guard::{self, Guard};
use crate::inspect::{self, WasmKind};
use crate::path::{Guest, Load, Variant, VariantCall, block_on};
/// The only import module the host provides: WASI preview 1, with nothing granted.
const WASI_P1: &str = "wasi_snapshot_preview1";

/// Per-store state of a core instance.
pub(crate) struct RawState {
    /// WASI preview 1 with nothing granted, linked so that modules built for `wasm32-wasip1`
    /// (whose standard library imports it) instantiate.
    wasi: WasiP1Ctx,
    guard: Guard,
}

pub(crate) fn guard(state: &mut RawState) -> &mut Guard {
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
    /// How many instances this guest and its clones have created.
    created: Arc<AtomicU64>,
}

impl std::fmt::Debug for RawGuest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawGuest")
            .field("has_button_text", &self.has_button_text)
            .finish_non_exhaustive()
    }
}

impl Load for RawGuest {
    const KIND: WasmKind = WasmKind::CoreModule;

    /// Compiles `bytes` as a core module and checks its imports and exports against the ABI's
    /// export table, [`boundary_kernel::wire::EXPORTS`].
    ///
    /// # Errors
    ///
    /// [`LoadError::NotWasm`] or [`LoadError::WrongKind`] for bytes that are not a core module,
    /// [`LoadError::MissingExport`] or [`LoadError::WrongExportType`] for a module without the
    /// ABI, [`LoadError::UnsupportedImport`] for imports other than WASI preview 1, and
    /// [`LoadError::Invalid`] when wasmtime rejects it.
    fn load(runtime: &Runtime, bytes: &[u8]) -> Result<Self, LoadError> {
        inspect::expect_kind(bytes, WasmKind::CoreModule)?;
        let module = runtime.compile_module(bytes).map_err(LoadError::invalid)?;
        if let Some(import) = module.imports().find(|i| i.module() != WASI_P1) {
            return Err(LoadError::UnsupportedImport {
                name: format!("{}::{}", import.module(), import.name()),
            });
        }
        let mut has_button_text = true;
        let mut has_tuned = true;
        for export in &EXPORTS {
            let present = module.get_export(export.name).is_some();
            match export.need {
                // Required exports must be there; optional ones, when there, must be typed right.
                Need::Required => check_export(&module, export)?,
                Need::Optional if present => check_export(&module, export)?,
                Need::Optional => has_button_text = false,
                // The tuned exports are all or none, and a module without them runs every other
                // variant.
                Need::Tuned => has_tuned &= check_export(&module, export).is_ok(),
            }
        }

        let mut linker = Linker::new(runtime.engine());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state: &mut RawState| &mut state.wasi)
            .map_err(LoadError::invalid)?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(LoadError::invalid)?;
        Ok(Self {
            runtime: runtime.clone(),
            pre,
            has_button_text,
            has_tuned,
            created: Arc::default(),
        })
    }

    fn variants() -> Vec<Variant<Self>> {
        /// A variant that calls `$method` on one instance kept across calls.
        macro_rules! on_one_instance {
            ($method:ident) => {
                |guest: &RawGuest| {
                    let mut instance = block_on(guest.instantiate())?;
                    Ok(
                        Box::new(move |input: &SomeDataStruct| block_on(instance.$method(input)))
                            as VariantCall,
                    )
                }
            };
        }
        vec![
            Variant {
                name: "seed",
                about: "the seed chapter's round trip: the output copied into a host Vec, then decoded",
                prepare: on_one_instance!(transform_seed),
            },
            Variant {
                name: "borrowed",
                about: "the guest decodes borrowed strings (entry_point_borrowed)",
                prepare: on_one_instance!(transform_borrowed),
            },
            Variant {
                name: "consume",
                about: "as borrowed, and the guest frees its own input: one ns_free fewer",
                prepare: on_one_instance!(transform_consume),
            },
            Variant {
                name: "tuned",
                about: "guest-owned buffers, one write and one call, decoded in place",
                prepare: on_one_instance!(transform_tuned),
            },
            Variant {
                name: "tuned-fresh",
                about: "the tuned call on a fresh instance for every call (instantiation included)",
                prepare: |guest| {
                    let guest = guest.clone();
                    Ok(Box::new(move |input: &SomeDataStruct| {
                        block_on(async { guest.instantiate().await?.transform_tuned(input).await })
                    }) as VariantCall)
                },
            },
        ]
    }
}

impl Guest for RawGuest {
    type Instance = RawInstance;

    /// Creates a fresh instance in its own store.
    ///
    /// # Errors
    ///
    /// [`CallError::Instantiate`] if the module's start function traps.
    async fn instantiate(&self) -> Result<RawInstance, CallError> {
        self.created.fetch_add(1, Ordering::Relaxed);
        let state = RawState {
            wasi: WasiCtxBuilder::new().build_p1(),
            guard: Guard::new(self.runtime.limits()),
        };
        let mut store = Store::new(self.runtime.engine(), state);
        guard::install(&mut store, guard);
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| guard::classify_instantiation(e, &store.data().guard))?;
        // The exports' types were checked in `RawGuest::load`, so these lookups only fail if
        // wasmtime disagrees with that check; report it rather than panic.
        let lookup = |e: wasmtime::Error| CallError::Instantiate(wasmtime_one_line(&e));
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(CallError::MissingExport("memory"))?;
        let mut func = |name: &str| -> Result<ExchangeFunc, CallError> {
            instance.get_typed_func(&mut store, name).map_err(lookup)
        };
        let entry_point = func("entry_point")?;
        let button_text = if self.has_button_text {
            Some(func("button_text")?)
        } else {
            None
        };
        let tuned = if self.has_tuned {
            Some(TunedExports {
                borrowed: func("entry_point_borrowed")?,
                consume: func("entry_point_consume")?,
                input_buffer: instance
                    .get_typed_func(&mut store, "input_buffer")
                    .map_err(lookup)?,
                entry_point_tuned: instance
                    .get_typed_func(&mut store, "entry_point_tuned")
                    .map_err(lookup)?,
            })
        } else {
            None
        };
        let ns_malloc = instance
            .get_typed_func(&mut store, "ns_malloc")
            .map_err(lookup)?;
        let ns_free = instance
            .get_typed_func(&mut store, "ns_free")
            .map_err(lookup)?;
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

    fn instances_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }
}

/// Checks one export of the module against its row of the ABI's export table.
fn check_export(module: &Module, export: &wire::Export) -> Result<(), LoadError> {
    let Some(ty) = module.get_export(export.name) else {
        return Err(LoadError::MissingExport {
            name: export.name.to_owned(),
            expected: export.ty.to_string(),
        });
    };
    let matches = match (&ty, export.ty) {
        // Any size; a 64-bit memory is not what the ABI's i32 addresses point into.
        (ExternType::Memory(memory), ExportType::Memory) => !memory.is_64(),
        (ExternType::Func(func), ExportType::Func { params, results }) => {
            let all_i32 = |types: Vec<ValType>, count| {
                types.len() == count && types.iter().all(|t| matches!(t, ValType::I32))
            };
            all_i32(func.params().collect(), params) && all_i32(func.results().collect(), results)
        }
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(LoadError::WrongExportType {
            name: export.name.to_owned(),
            expected: export.ty.to_string(),
            found: inspect::describe_extern(&ty),
        })
    }
}

/// An export that takes `(ptr, len)` and returns the address of a result region.
pub(crate) type ExchangeFunc = TypedFunc<(u32, u32), u32>;
