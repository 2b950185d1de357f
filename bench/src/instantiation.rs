//! The instantiation harness: for every registered path, four ways to get an instance (or a
//! compiled guest): load from bytes, deserialize a precompiled artifact, and instantiate on an
//! on-demand and on a pooling engine.

use std::hint::black_box;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use boundary_guests::{TryPathVisitor, paths, try_for_each_path};
use boundary_host::{Guest, Load, Registration, Runtime, WasmKind};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::engine::{current_thread, engines};
use crate::{BenchError, Guests};

/// A way to get an instance (or a compiled guest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstKind {
    /// [`Load::load`] from bytes: validate, compile with Cranelift, link, check the contract.
    Load,
    /// `Component::deserialize` / `Module::deserialize` of an artifact this engine precompiled.
    Deserialize,
    /// [`Guest::instantiate`]: a new store and instance from the prepared guest, on-demand
    /// allocator; dropped.
    InstantiateOnDemand,
    /// The same with the pooling allocator.
    InstantiatePooling,
}

impl InstKind {
    /// All four, in report order.
    pub const ALL: [InstKind; 4] = [
        Self::Load,
        Self::Deserialize,
        Self::InstantiateOnDemand,
        Self::InstantiatePooling,
    ];

    /// A short name, used as the criterion bench id too.
    pub fn label(self) -> &'static str {
        match self {
            Self::Load => "load-from-bytes",
            Self::Deserialize => "deserialize-precompiled",
            Self::InstantiateOnDemand => "instantiate-on-demand",
            Self::InstantiatePooling => "instantiate-pooling",
        }
    }
}

/// Gets an instance (or a compiled guest) `iters` times.
trait InstCaller {
    fn time(
        &mut self,
        executor: &tokio::runtime::Runtime,
        iters: u64,
    ) -> Result<Duration, BenchError>;
}

struct LoadFromBytes<G> {
    runtime: Runtime,
    bytes: Vec<u8>,
    what: String,
    guest: PhantomData<fn() -> G>,
}

impl<G: Load> InstCaller for LoadFromBytes<G> {
    fn time(&mut self, _: &tokio::runtime::Runtime, iters: u64) -> Result<Duration, BenchError> {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(
                G::load(&self.runtime, &self.bytes).map_err(|source| BenchError::Load {
                    what: self.what.clone(),
                    source,
                })?,
            );
        }
        Ok(start.elapsed())
    }
}

struct Deserialize {
    engine: Engine,
    kind: WasmKind,
    artifact: Vec<u8>,
}

impl Deserialize {
    fn new(engine: &Engine, kind: WasmKind, bytes: &[u8]) -> Result<Self, BenchError> {
        let artifact = match kind {
            WasmKind::Component => engine.precompile_component(bytes),
            WasmKind::CoreModule => engine.precompile_module(bytes),
        }
        .map_err(|e| BenchError::Artifact {
            what: format!("cannot precompile the {}", kind.name()),
            source: e.into(),
        })?;
        Ok(Self {
            engine: engine.clone(),
            kind,
            artifact,
        })
    }
}

impl InstCaller for Deserialize {
    fn time(&mut self, _: &tokio::runtime::Runtime, iters: u64) -> Result<Duration, BenchError> {
        let error = |e: wasmtime::Error| BenchError::Artifact {
            what: "cannot deserialize the precompiled guest".to_owned(),
            source: e.into(),
        };
        let start = Instant::now();
        for _ in 0..iters {
            match self.kind {
                WasmKind::Component => {
                    // SAFETY: the artifact was produced by `precompile_component` on this very
                    // engine in this process (`Deserialize::new`) and has not been modified since.
                    let component = unsafe { Component::deserialize(&self.engine, &self.artifact) };
                    black_box(component.map_err(error)?);
                }
                WasmKind::CoreModule => {
                    // SAFETY: as above, from `precompile_module` on this engine.
                    let module = unsafe { Module::deserialize(&self.engine, &self.artifact) };
                    black_box(module.map_err(error)?);
                }
            }
        }
        Ok(start.elapsed())
    }
}

struct Instantiate<G> {
    guest: G,
    row: String,
}

impl<G: Guest> InstCaller for Instantiate<G> {
    /// Instances are dropped inside the timed loop, as a server dropping them after a request
    /// would.
    fn time(
        &mut self,
        executor: &tokio::runtime::Runtime,
        iters: u64,
    ) -> Result<Duration, BenchError> {
        let guest = &self.guest;
        executor
            .block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(guest.instantiate().await?);
                }
                Ok(start.elapsed())
            })
            .map_err(|source| BenchError::Call {
                row: self.row.clone(),
                workload: "instantiation".to_owned(),
                source,
            })
    }
}

struct InstRow {
    path: &'static str,
    kind: InstKind,
    caller: Box<dyn InstCaller>,
}

/// Everything the instantiation figures need, prepared once for every registered path.
pub struct InstHarness {
    executor: tokio::runtime::Runtime,
    rows: Vec<InstRow>,
}

impl std::fmt::Debug for InstHarness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstHarness").finish_non_exhaustive()
    }
}

struct AddInstRows<'a> {
    on_demand: &'a Runtime,
    pooling: &'a Runtime,
    guests: &'a Guests,
    rows: Vec<InstRow>,
}

impl TryPathVisitor for AddInstRows<'_> {
    type Error = BenchError;

    fn try_visit<G: Load>(&mut self, registration: &Registration) -> Result<(), BenchError> {
        let path = registration.name;
        let bytes = self.guests.bytes(registration);
        let what = self.guests.what(registration);
        let load = |runtime: &Runtime| {
            G::load(runtime, bytes).map_err(|source| BenchError::Load {
                what: what.clone(),
                source,
            })
        };
        let on_demand = load(self.on_demand)?;
        let pooling = load(self.pooling)?;
        let row = |kind: InstKind| format!("{path} {}", kind.label());
        let callers: [(InstKind, Box<dyn InstCaller>); 4] = [
            (
                InstKind::Load,
                Box::new(LoadFromBytes::<G> {
                    runtime: self.on_demand.clone(),
                    bytes: bytes.to_vec(),
                    what: what.clone(),
                    guest: PhantomData,
                }),
            ),
            (
                InstKind::Deserialize,
                Box::new(Deserialize::new(self.on_demand.engine(), G::KIND, bytes)?),
            ),
            (
                InstKind::InstantiateOnDemand,
                Box::new(Instantiate {
                    guest: on_demand,
                    row: row(InstKind::InstantiateOnDemand),
                }),
            ),
            (
                InstKind::InstantiatePooling,
                Box::new(Instantiate {
                    guest: pooling,
                    row: row(InstKind::InstantiatePooling),
                }),
            ),
        ];
        self.rows.extend(
            callers
                .into_iter()
                .map(|(kind, caller)| InstRow { path, kind, caller }),
        );
        Ok(())
    }
}

impl InstHarness {
    /// Loads every registered path's guest on an on-demand and a pooling engine, and
    /// precompiles it.
    ///
    /// # Errors
    ///
    /// [`BenchError::Load`] or [`BenchError::Artifact`] if a guest does not load or precompile.
    pub fn new(guests: &Guests) -> Result<Self, BenchError> {
        let (on_demand, pooling) = engines(false)?;
        let mut add = AddInstRows {
            on_demand: &on_demand,
            pooling: &pooling,
            guests,
            rows: Vec::new(),
        };
        try_for_each_path(&mut add)?;
        Ok(Self {
            executor: current_thread()?,
            rows: add.rows,
        })
    }

    /// The figures, in report order: (path, kind).
    pub fn rows(&self) -> Vec<(&'static str, InstKind)> {
        self.rows.iter().map(|r| (r.path, r.kind)).collect()
    }

    /// Gets an instance (or a compiled guest) for row `row` `iters` times and returns the
    /// total time.
    ///
    /// # Errors
    ///
    /// [`BenchError::Load`], [`BenchError::Artifact`] or [`BenchError::Call`] if a step fails.
    ///
    /// # Panics
    ///
    /// If `row` is not an index into [`InstHarness::rows`].
    pub fn time(&mut self, row: usize, iters: u64) -> Result<Duration, BenchError> {
        self.rows[row].caller.time(&self.executor, iters)
    }
}

/// How many figures [`InstHarness::new`] prepares.
pub fn inst_row_count() -> usize {
    paths().len() * InstKind::ALL.len()
}
