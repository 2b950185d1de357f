//! The component path: the canonical ABI, through `wasmtime::component::bindgen!`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use boundary_kernel::SomeDataStruct;
use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceTable, TypedFunc};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{RecordRef, Transformer, TransformerPre, WitRecord, sync};
use crate::error::{CallError, LoadError, wasmtime_one_line};
use crate::guard::{self, Guard};
use crate::inspect::{self, WasmKind};
use crate::path::{Guest, Instance, Load, Variant, VariantCall};
use crate::{Called, Limits, Runtime, Traffic};

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
    /// How many instances this guest and its clones have created.
    created: Arc<AtomicU64>,
}

impl std::fmt::Debug for ComponentGuest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentGuest").finish_non_exhaustive()
    }
}

impl Load for ComponentGuest {
    const KIND: WasmKind = WasmKind::Component;

    /// Compiles `bytes` as a component and checks that it implements the `transformer` world.
    ///
    /// # Errors
    ///
    /// [`LoadError::NotWasm`] or [`LoadError::WrongKind`] for bytes that are not a component,
    /// [`LoadError::MissingExport`] or [`LoadError::WrongExportType`] for a component of another
    /// world, [`LoadError::UnsupportedImport`] for imports other than WASI, and
    /// [`LoadError::Invalid`] when wasmtime rejects it.
    fn load(runtime: &Runtime, bytes: &[u8]) -> Result<Self, LoadError> {
        inspect::expect_kind(bytes, WasmKind::Component)?;
        let component = runtime
            .compile_component(bytes)
            .map_err(LoadError::invalid)?;
        check_world(runtime, &component)?;

        let mut linker = Linker::new(runtime.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(LoadError::invalid)?;
        // The world `use`s its record from the `types` interface, so the component imports that
        // interface for its type alone. There is nothing in it to provide: define it empty.
        for (name, import) in component.component_type().imports(runtime.engine()) {
            if inspect::is_type_only(runtime.engine(), &import.ty) {
                linker.instance(name).map_err(LoadError::invalid)?;
            }
        }
        let pre = linker
            .instantiate_pre(&component)
            .map_err(LoadError::invalid)?;
        let mismatch = |e| world_mismatch(runtime, &component, e);
        let sync_pre = sync::TransformerPre::new(pre.clone()).map_err(mismatch)?;
        let pre = TransformerPre::new(pre).map_err(mismatch)?;
        Ok(Self {
            runtime: runtime.clone(),
            pre,
            sync_pre,
            created: Arc::default(),
        })
    }

    fn variants() -> Vec<Variant<Self>> {
        vec![
            Variant {
                name: "sync",
                about: "synchronous call, the record lowered from borrowed data (no host clone)",
                prepare: |guest| {
                    let mut instance = guest.instantiate_sync()?;
                    Ok(
                        Box::new(move |input: &SomeDataStruct| instance.transform(input))
                            as VariantCall,
                    )
                },
            },
            Variant {
                name: "sync-bindgen",
                about: "synchronous call through bindgen!'s generated function, which takes a clone",
                prepare: |guest| {
                    let mut instance = guest.instantiate_sync()?;
                    Ok(
                        Box::new(move |input: &SomeDataStruct| instance.transform_bindgen(input))
                            as VariantCall,
                    )
                },
            },
            Variant {
                name: "fresh",
                about: "a fresh instance for every call (instantiation included)",
                prepare: |guest| {
                    let guest = guest.clone();
                    Ok(Box::new(move |input: &SomeDataStruct| {
                        guest.instantiate_sync()?.transform(input)
                    }) as VariantCall)
                },
            },
        ]
    }
}

impl Guest for ComponentGuest {
    type Instance = ComponentInstance;

    async fn instantiate(&self) -> Result<ComponentInstance, CallError> {
        let mut store = self.new_store();
        let bindings = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| guard::classify_instantiation(e, &store.data().guard))?;
        Ok(ComponentInstance {
            store,
            bindings,
            limits: self.runtime.limits(),
        })
    }

    fn instances_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }
}

impl ComponentGuest {
    /// Creates a fresh instance in its own store, without an executor, for synchronous calls.
    ///
    /// # Errors
    ///
    /// [`CallError::Instantiate`] if the component's start-up code traps, or if it imports a
    /// WASI function (those are linked as async host functions and need
    /// [`Guest::instantiate`]).
    pub fn instantiate_sync(&self) -> Result<SyncComponentInstance, CallError> {
        let mut store = self.new_store();
        let instance = self
            .sync_pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| guard::classify_instantiation(e, &store.data().guard))?;
        let lookup = |e: wasmtime::Error| CallError::Instantiate(wasmtime_one_line(&e));
        let bindings = sync::Transformer::new(&mut store, &instance).map_err(lookup)?;
        let transform = instance
            .get_typed_func::<(RecordRef<'static>,), (WitRecord,)>(&mut store, "transform")
            .map_err(lookup)?;
        Ok(SyncComponentInstance {
            store,
            bindings,
            transform,
            limits: self.runtime.limits(),
        })
    }

    /// A store with the guard installed, counted as one more instance.
    fn new_store(&self) -> Store<ComponentState> {
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
        store
    }
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

impl Instance for ComponentInstance {
    /// Calls the guest's `transform`.
    ///
    /// # Errors
    ///
    /// [`CallError::InputTooLarge`] before the call, [`CallError::Trap`] if the guest traps, and
    /// [`CallError::OutputTooLarge`] if the record it returned is over the output limit.
    async fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let bytes_in = check_input(canonical_size(input), self.limits)?;
        guard::arm(&mut self.store, guard);
        let result = self
            .bindings
            .call_transform(&mut self.store, &WitRecord::from(input))
            .await;
        finish_record(&self.store, self.limits, bytes_in, result)
    }

    /// Calls the guest's `button-text`.
    ///
    /// # Errors
    ///
    /// As for [`ComponentInstance::transform`].
    async fn button_text(&mut self, status: &str) -> Result<Called<String>, CallError> {
        let bytes_in = check_input(status.len() as u64, self.limits)?;
        guard::arm(&mut self.store, guard);
        let result = self
            .bindings
            .call_button_text(&mut self.store, status)
            .await;
        let label = result.map_err(|e| guard::classify(e, &self.store.data().guard))?;
        let bytes_out = check_output(label.len() as u64, self.limits)?;
        Ok(Called {
            value: label,
            traffic: traffic(&self.store, bytes_in, bytes_out),
        })
    }

    fn memory_bytes(&self) -> usize {
        self.store.data().guard.memory_bytes
    }
}

/// One instance of a component guest called synchronously, for many calls. The same checks
/// and error rules as [`ComponentInstance`].
pub struct SyncComponentInstance {
    store: Store<ComponentState>,
    bindings: sync::Transformer,
    /// `transform`, type-checked against a record lowered from borrowed data.
    transform: TypedFunc<(RecordRef<'static>,), (WitRecord,)>,
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
            TypedFunc::<(RecordRef<'_>,), (WitRecord,)>::new_unchecked(*self.transform.func())
        };
        let bytes_in = check_input(canonical_size(input), self.limits)?;
        guard::arm(&mut self.store, guard);
        let result = func
            .call(&mut self.store, (RecordRef::from(input),))
            .map(|(output,)| output);
        finish_record(&self.store, self.limits, bytes_in, result)
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
        let bytes_in = check_input(canonical_size(input), self.limits)?;
        guard::arm(&mut self.store, guard);
        let result = self
            .bindings
            .call_transform(&mut self.store, &WitRecord::from(input));
        finish_record(&self.store, self.limits, bytes_in, result)
    }
}

/// Classifies a `transform` call's error, or checks its output and counts its traffic.
fn finish_record(
    store: &Store<ComponentState>,
    limits: Limits,
    bytes_in: u64,
    result: wasmtime::Result<WitRecord>,
) -> Result<Called<SomeDataStruct>, CallError> {
    let output = SomeDataStruct::from(result.map_err(|e| guard::classify(e, &store.data().guard))?);
    let bytes_out = check_output(canonical_size(&output), limits)?;
    Ok(Called {
        value: output,
        traffic: traffic(store, bytes_in, bytes_out),
    })
}

fn traffic(store: &Store<ComponentState>, bytes_in: u64, bytes_out: u64) -> Traffic {
    Traffic {
        guest_calls: store.data().guard.guest_calls,
        bytes_in,
        bytes_out,
    }
}

fn check_input(len: u64, limits: Limits) -> Result<u64, CallError> {
    if len > u64::from(limits.max_input_bytes) {
        return Err(CallError::InputTooLarge {
            len,
            max: limits.max_input_bytes,
        });
    }
    Ok(len)
}

fn check_output(len: u64, limits: Limits) -> Result<u64, CallError> {
    let max = limits.max_output_bytes;
    if len > u64::from(max) {
        return Err(CallError::OutputTooLarge {
            len: Some(len),
            max,
        });
    }
    Ok(len)
}

/// Bytes a record occupies in guest memory under the canonical ABI: the UTF-8 bytes of every
/// string, plus a `(ptr, len)` pair of 8 bytes for each element of `names`.
pub fn canonical_size(record: &SomeDataStruct) -> u64 {
    // Exhaustive: a field added to the record (and so to the WIT, which `bindings` destructures
    // the same way) is a compile error here until its bytes are counted.
    let SomeDataStruct { name, names } = record;
    let strings: usize = name.len() + names.iter().map(String::len).sum::<usize>();
    strings as u64 + 8 * names.len() as u64
}

/// Wasmtime's type check against the bindings failed: the component exports the world's
/// functions with other types. Its message names the export (in backquotes); the error adds
/// that export's whole type.
fn world_mismatch(runtime: &Runtime, component: &Component, error: wasmtime::Error) -> LoadError {
    let message = wasmtime_one_line(&error);
    let ty = component.component_type();
    // The world's exports by name; their types are checked by wasmtime against the bindings
    // generated from `wit/`, the one place they are stated.
    let (name, found) = inspect::TRANSFORMER_EXPORTS
        .iter()
        .find(|name| message.contains(&format!("`{name}`")))
        .and_then(|name| match ty.get_export(runtime.engine(), name)?.ty {
            ComponentItem::ComponentFunc(func) => {
                Some(((*name).to_owned(), inspect::describe_func(&func)))
            }
            _ => None,
        })
        .unwrap_or_else(|| ("?".to_owned(), "of another type".to_owned()));
    LoadError::WorldMismatch {
        name,
        found,
        source: error.into(),
    }
}

/// Checks the component's imports, and that it exports the world's functions, naming what is
/// missing. Their types are then checked by wasmtime against the generated bindings.
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
    for name in inspect::TRANSFORMER_EXPORTS {
        match ty.get_export(engine, name).map(|export| export.ty) {
            None => {
                return Err(LoadError::MissingExport {
                    name: name.to_owned(),
                    expected: "a function of the `transformer` world".to_owned(),
                });
            }
            Some(ComponentItem::ComponentFunc(_)) => {}
            Some(other) => {
                return Err(LoadError::WrongExportType {
                    name: name.to_owned(),
                    expected: "a function".to_owned(),
                    found: inspect::component_item_kind(&other).to_owned(),
                });
            }
        }
    }
    Ok(())
}
