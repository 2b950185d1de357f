//! The component path: the canonical ABI, through `wasmtime::component::bindgen!`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

use boundary_kernel::SomeDataStruct;
use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceTable, TypedFunc};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{Transformer, TransformerPre, WitRecord, sync};
use crate::error::{CallError, LoadError, one_line};
use crate::guard::{self, Guard};
use crate::{Called, Limits, Runtime, Traffic, inspect};

/// Per-store state of a component instance.
struct ComponentState {
    /// WASI with nothing granted: no files, no environment, no network, no stdio. It is linked
    /// so that components built for `wasm32-wasip2` (whose standard library imports WASI)
    /// instantiate; the default guest imports nothing.
    wasi: WasiCtx,
    table: ResourceTable,
    guard: Guard,
}

fn guard(state: &mut ComponentState) -> &mut Guard {
    &mut state.guard
}

impl WasiView for ComponentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A component implementing the `transformer` world, compiled and linked once.
///
/// Cloning is cheap and shares the compiled code.
#[derive(Clone)]
pub struct ComponentGuest {
    runtime: Runtime,
    pre: TransformerPre<ComponentState>,
    /// The same `InstancePre` behind synchronous bindings.
    sync_pre: sync::TransformerPre<ComponentState>,
    /// The instance [`ComponentGuest::transform`] and [`ComponentGuest::button_text`] reuse.
    /// How many instances [`ComponentGuest::instantiate`] has created.
    created: Arc<AtomicU64>,
    cached: Arc<Mutex<Option<ComponentInstance>>>,
}

impl std::fmt::Debug for ComponentGuest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentGuest").finish_non_exhaustive()
    }
}

impl ComponentGuest {
    /// Compiles `bytes` as a component and checks that it implements the `transformer` world.
    ///
    /// # Errors
    ///
    /// [`LoadError::NotWasm`] or [`LoadError::WrongKind`] for bytes that are not a component,
    /// [`LoadError::MissingExport`] or [`LoadError::WrongExportType`] for a component of another
    /// world, [`LoadError::UnsupportedImport`] for imports other than WASI, and
    /// [`LoadError::Invalid`] when wasmtime rejects it.
    pub fn new(runtime: &Runtime, bytes: &[u8]) -> Result<Self, LoadError> {
        inspect::expect_kind(bytes, inspect::WasmKind::Component)?;
        let component = Component::new(runtime.engine(), bytes)
            .map_err(|e| LoadError::Invalid(one_line(&e)))?;
        check_world(runtime, &component)?;

        let mut linker = Linker::new(runtime.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Invalid(one_line(&e)))?;
        // The world `use`s its record from the `types` interface, so the component imports that
        // interface for its type alone. There is nothing in it to provide: define it empty.
        for (name, import) in component.component_type().imports(runtime.engine()) {
            if inspect::is_type_only(runtime.engine(), &import.ty) {
                linker
                    .instance(name)
                    .map_err(|e| LoadError::Invalid(one_line(&e)))?;
            }
        }
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Invalid(one_line(&e)))?;
        let sync_pre =
            sync::TransformerPre::new(pre.clone()).map_err(|e| LoadError::Invalid(one_line(&e)))?;
        let pre = TransformerPre::new(pre).map_err(|e| LoadError::Invalid(one_line(&e)))?;
        Ok(Self {
            runtime: runtime.clone(),
            pre,
            sync_pre,
            created: Arc::default(),
            cached: Arc::default(),
        })
    }

    /// Calls `transform` on a reused instance. After any error but one the guest reported (or
    /// an input refused before the call), the instance is dropped and the next call gets a
    /// fresh one.
    ///
    /// # Errors
    ///
    /// As [`ComponentGuest::instantiate`] and [`ComponentInstance::transform`].
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

    /// Calls `button-text` on a reused instance, as [`ComponentGuest::transform`] does.
    ///
    /// # Errors
    ///
    /// As [`ComponentGuest::instantiate`] and [`ComponentInstance::button_text`].
    pub async fn button_text(&self, status: &str) -> Result<Called<String>, CallError> {
        reuse(
            &self.cached,
            async || self.instantiate().await,
            async |instance| instance.button_text(status).await,
        )
        .await
    }

    /// Reads and compiles a component file.
    ///
    /// # Errors
    ///
    /// [`LoadError::Read`] if the file cannot be read, then as [`ComponentGuest::new`].
    pub fn from_file(runtime: &Runtime, path: &Path) -> Result<Self, LoadError> {
        let bytes = LoadError::read_file(path)?;
        Self::new(runtime, &bytes)
    }

    /// How many instances this guest (and its clones) has created so far. After a call fails
    /// in a way that leaves its instance unusable, the next call creates a fresh one.
    pub fn instances_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// Creates a fresh instance in its own store. Cheap: compilation and linking happened in
    /// [`ComponentGuest::new`].
    ///
    /// # Errors
    ///
    /// [`CallError::Instantiate`] if the component's start-up code traps.
    pub async fn instantiate(&self) -> Result<ComponentInstance, CallError> {
        self.created.fetch_add(1, Ordering::Relaxed);
        let state = ComponentState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            guard: Guard::new(self.runtime.limits()),
        };
        let mut store = Store::new(self.runtime.engine(), state);
        guard::install(&mut store, guard);
        // Caps what lifting a guest's values may allocate on the host.
        store.set_hostcall_fuel(self.runtime.limits().max_output_bytes as usize);
        let bindings = match self.pre.instantiate_async(&mut store).await {
            Ok(bindings) => bindings,
            Err(e) => {
                return Err(match guard::classify(e, &store.data().guard) {
                    CallError::Trap(message) => CallError::Instantiate(message),
                    other => other,
                });
            }
        };
        Ok(ComponentInstance {
            store,
            bindings,
            limits: self.runtime.limits(),
        })
    }

    /// Creates a fresh instance in its own store, without an executor, for synchronous calls.
    ///
    /// # Errors
    ///
    /// [`CallError::Instantiate`] if the component's start-up code traps, or if it imports a
    /// WASI function (those are linked as async host functions and need
    /// [`ComponentGuest::instantiate`]).
    pub fn instantiate_sync(&self) -> Result<SyncComponentInstance, CallError> {
        self.created.fetch_add(1, Ordering::Relaxed);
        let mut store = self.new_store();
        let instance = match self.sync_pre.instance_pre().instantiate(&mut store) {
            Ok(instance) => instance,
            Err(e) => {
                return Err(match guard::classify(e, &store.data().guard) {
                    CallError::Trap(message) => CallError::Instantiate(message),
                    other => other,
                });
            }
        };
        let lookup = |e: wasmtime::Error| CallError::Instantiate(one_line(&e));
        let bindings = sync::Transformer::new(&mut store, &instance).map_err(lookup)?;
        let transform = instance
            .get_typed_func::<(sync::RecordRef<'static>,), (sync::WitRecord,)>(
                &mut store,
                "transform",
            )
            .map_err(lookup)?;
        Ok(SyncComponentInstance {
            store,
            bindings,
            transform,
            limits: self.runtime.limits(),
        })
    }

    fn new_store(&self) -> Store<ComponentState> {
        let state = ComponentState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            guard: Guard::new(self.runtime.limits()),
        };
        let mut store = Store::new(self.runtime.engine(), state);
        guard::install(&mut store, guard);
        // Caps what lifting a guest's values may allocate on the host.
        store.set_hostcall_fuel(self.runtime.limits().max_output_bytes as usize);
        store
    }
}

/// One instance of a component guest called synchronously, for many calls. The same checks
/// and error rules as [`ComponentInstance`].
pub struct SyncComponentInstance {
    store: Store<ComponentState>,
    bindings: sync::Transformer,
    /// `transform`, type-checked against a record lowered from borrowed data.
    transform: TypedFunc<(sync::RecordRef<'static>,), (sync::WitRecord,)>,
    limits: Limits,
}

impl std::fmt::Debug for SyncComponentInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncComponentInstance")
            .finish_non_exhaustive()
    }
}

impl SyncComponentInstance {
    /// Calls the guest's `transform` synchronously, lowering the record straight from `input`
    /// (no clone of it on the host).
    ///
    /// # Errors
    ///
    /// As for [`ComponentInstance::transform`].
    pub fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        // SAFETY: `self.transform` was type-checked by `get_typed_func` against exactly these
        // parameter and result types; they differ only in the lifetime of the borrow, which the
        // component model's type check does not see and the call does not keep.
        let func = unsafe {
            TypedFunc::<(sync::RecordRef<'_>,), (sync::WitRecord,)>::new_unchecked(
                *self.transform.func(),
            )
        };
        sync_call(&mut self.store, self.limits, input, |store| {
            func.call(store, (sync::RecordRef::from(input),))
                .map(|(output,)| output)
        })
    }

    /// Calls the guest's `transform` synchronously through the generated bindings, which take
    /// the generated record type: the host clones `input` into it first, as the async path does.
    ///
    /// # Errors
    ///
    /// As for [`ComponentInstance::transform`].
    pub fn transform_bindgen(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let Self {
            store,
            bindings,
            limits,
            ..
        } = self;
        sync_call(store, *limits, input, |store| {
            bindings.call_transform(store, &sync::WitRecord::from(input))
        })
    }
}

fn sync_call(
    store: &mut Store<ComponentState>,
    limits: Limits,
    input: &SomeDataStruct,
    call: impl FnOnce(&mut Store<ComponentState>) -> wasmtime::Result<sync::WitRecord>,
) -> Result<Called<SomeDataStruct>, CallError> {
    let bytes_in = check_input(input, limits)?;
    guard::arm(store, guard);
    let result = call(store);
    let output = result.map_err(|e| guard::classify(e, &store.data().guard))?;
    let output = SomeDataStruct::from(output);
    let bytes_out = canonical_size(&output);
    check_output(bytes_out, limits)?;
    Ok(Called {
        value: output,
        traffic: Traffic {
            guest_calls: store.data().guard.guest_calls,
            bytes_in,
            bytes_out,
        },
    })
}

fn check_input(input: &SomeDataStruct, limits: Limits) -> Result<u64, CallError> {
    let bytes_in = canonical_size(input);
    if bytes_in > u64::from(limits.max_input_bytes) {
        return Err(CallError::InputTooLarge {
            len: bytes_in,
            max: limits.max_input_bytes,
        });
    }
    Ok(bytes_in)
}

fn check_output(len: u64, limits: Limits) -> Result<(), CallError> {
    let max = limits.max_output_bytes;
    if len > u64::from(max) {
        return Err(CallError::OutputTooLarge {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            max,
        });
    }
    Ok(())
}

/// Runs `call` on the cached instance, or on a `fresh` one if there is none, and caches the
/// instance again unless the call's error says it must not be called again.
pub(crate) async fn reuse<I, T>(
    cached: &Mutex<Option<I>>,
    fresh: impl AsyncFnOnce() -> Result<I, CallError>,
    call: impl AsyncFnOnce(&mut I) -> Result<T, CallError>,
) -> Result<T, CallError> {
    let mut slot = cached.lock().await;
    let mut instance = match slot.take() {
        Some(instance) => instance,
        None => fresh().await?,
    };
    let result = call(&mut instance).await;
    if result
        .as_ref()
        .err()
        .is_none_or(CallError::instance_is_reusable)
    {
        *slot = Some(instance);
    }
    result
}

/// One instance of a component guest, for many calls.
///
/// After a call returns an error other than [`CallError::Guest`], drop the instance: a component
/// instance that trapped refuses further calls.
pub struct ComponentInstance {
    store: Store<ComponentState>,
    bindings: Transformer,
    limits: Limits,
}

impl std::fmt::Debug for ComponentInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentInstance").finish_non_exhaustive()
    }
}

impl ComponentInstance {
    /// The guest's linear memory, in bytes, as far as it has grown. Flat across calls once
    /// warmed up: the guest frees what each call allocates.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().guard.memory_bytes
    }

    /// Calls the guest's `transform`.
    ///
    /// # Errors
    ///
    /// [`CallError::InputTooLarge`] before the call, [`CallError::Trap`] if the guest traps, and
    /// [`CallError::OutputTooLarge`] if the record it returned is over the output limit.
    pub async fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let bytes_in = canonical_size(input);
        if bytes_in > u64::from(self.limits.max_input_bytes) {
            return Err(CallError::InputTooLarge {
                len: bytes_in,
                max: self.limits.max_input_bytes,
            });
        }
        guard::arm(&mut self.store, guard);
        let result = self
            .bindings
            .call_transform(&mut self.store, &WitRecord::from(input))
            .await;
        let output = result.map_err(|e| guard::classify(e, &self.store.data().guard))?;
        let output = SomeDataStruct::from(output);
        let bytes_out = canonical_size(&output);
        self.check_output(bytes_out)?;
        Ok(Called {
            value: output,
            traffic: Traffic {
                guest_calls: self.store.data().guard.guest_calls,
                bytes_in,
                bytes_out,
            },
        })
    }

    /// Calls the guest's `button-text`.
    ///
    /// # Errors
    ///
    /// As for [`ComponentInstance::transform`].
    pub async fn button_text(&mut self, status: &str) -> Result<Called<String>, CallError> {
        let bytes_in = status.len() as u64;
        if bytes_in > u64::from(self.limits.max_input_bytes) {
            return Err(CallError::InputTooLarge {
                len: bytes_in,
                max: self.limits.max_input_bytes,
            });
        }
        guard::arm(&mut self.store, guard);
        let result = self
            .bindings
            .call_button_text(&mut self.store, status)
            .await;
        let label = result.map_err(|e| guard::classify(e, &self.store.data().guard))?;
        let bytes_out = label.len() as u64;
        self.check_output(bytes_out)?;
        Ok(Called {
            value: label,
            traffic: Traffic {
                guest_calls: self.store.data().guard.guest_calls,
                bytes_in,
                bytes_out,
            },
        })
    }

    fn check_output(&self, len: u64) -> Result<(), CallError> {
        let max = self.limits.max_output_bytes;
        if len > u64::from(max) {
            return Err(CallError::OutputTooLarge {
                len: u32::try_from(len).unwrap_or(u32::MAX),
                max,
            });
        }
        Ok(())
    }
}

/// Bytes a record occupies in guest memory under the canonical ABI: the UTF-8 bytes of every
/// string, plus a `(ptr, len)` pair of 8 bytes for each element of `names`.
pub fn canonical_size(record: &SomeDataStruct) -> u64 {
    let strings: usize = record.name.len() + record.names.iter().map(String::len).sum::<usize>();
    strings as u64 + 8 * record.names.len() as u64
}

/// The record's type as [`inspect::describe_type`] writes it.
const RECORD: &str = "record { name: string, names: list<string> }";

/// Checks the component's imports and exports against the `transformer` world, naming what is
/// missing or mistyped. Wasmtime's own type check (in `TransformerPre::new`) still runs after.
fn check_world(runtime: &Runtime, component: &Component) -> Result<(), LoadError> {
    let ty = component.component_type();
    let engine = runtime.engine();
    let provided = |name: &str, item: &ComponentItem| {
        name.starts_with("wasi:") || inspect::is_type_only(engine, item)
    };
    if let Some((name, _)) = ty
        .imports(engine)
        .find(|(name, import)| !provided(name, &import.ty))
    {
        return Err(LoadError::UnsupportedImport {
            name: name.to_owned(),
        });
    }
    let world: [(&str, (&str, &str), &str); 2] = [
        ("transform", ("input", RECORD), RECORD),
        ("button-text", ("status", "string"), "string"),
    ];
    for (name, (param_name, param), result) in world {
        let expected = format!("func({param_name}: {param}) -> {result}");
        let found = match ty.get_export(engine, name).map(|export| export.ty) {
            None => {
                return Err(LoadError::MissingExport {
                    name: name.to_owned(),
                    expected,
                });
            }
            Some(ComponentItem::ComponentFunc(func)) => func,
            Some(other) => {
                return Err(LoadError::WrongExportType {
                    name: name.to_owned(),
                    expected,
                    found: inspect::component_item_kind(&other).to_owned(),
                });
            }
        };
        let found_params: Vec<String> = found
            .params()
            .map(|(_, t)| inspect::describe_type(&t))
            .collect();
        let found_results: Vec<String> = found
            .results()
            .map(|t| inspect::describe_type(&t))
            .collect();
        if found_params != [param] || found_results != [result] {
            return Err(LoadError::WrongExportType {
                name: name.to_owned(),
                expected,
                found: inspect::describe_func(&found),
            });
        }
    }
    Ok(())
}
