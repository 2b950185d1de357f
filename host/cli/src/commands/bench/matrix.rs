//! What is measured: the workloads (defined in `boundary_schema::workloads`, which the Extism
//! peer's process measures too), the rows (native Rust, then every registered path's default
//! call and variants), and the ways to get an instance. The rows are built by visiting the
//! registry, so each path's calls are statically dispatched inside the timed loops.

use std::hint::black_box;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use boundary_guests::{PathVisitor, TryPathVisitor, for_each_path, paths, try_for_each_path};
use boundary_host::{
    Allocator, CallError, Called, Guest, Instance, Limits, Load, Registration, Runtime,
    SomeDataStruct, Traffic, VariantCall, WasmKind,
};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

pub use boundary_schema::workloads::{Workload, workloads};

use super::BenchError;

/// The library defaults, with room for W2 and W3 and a deadline no slow sample reaches. Timed
/// instances do not count guest calls (a call hook adds up to about a tenth to a W0 call); the
/// harness gets the counts from a counting twin of each row.
pub fn bench_limits(allocator: Allocator) -> Limits {
    Limits {
        max_memory_bytes: 256 << 20,
        deadline: Duration::from_secs(30),
        allocator,
        count_guest_calls: false,
        ..Limits::default()
    }
}

/// The guests to measure: each registered path's embedded default, unless a `--guest` file of
/// its kind replaces it.
#[derive(Debug, Clone, Default)]
pub struct Guests {
    files: Vec<Replacement>,
}

#[derive(Debug, Clone)]
struct Replacement {
    /// The registered path whose default guest it replaces.
    path: &'static str,
    file: PathBuf,
    bytes: Vec<u8>,
    componentized: bool,
}

impl Guests {
    /// Every path's embedded default guest.
    pub fn embedded() -> Self {
        Self::default()
    }

    /// Reads `files` (at most `limits.max_guest_file_bytes` each, regular files only); each
    /// replaces the default guest of the first registered path that runs its kind. A core module
    /// that carries wit-bindgen's `component-type` metadata is componentized first, as the build
    /// script does for the embedded component.
    ///
    /// # Errors
    ///
    /// [`BenchError::GuestFile`] for a file that cannot be read, [`BenchError::Load`] for one
    /// that is not wasm,
    /// [`BenchError::Artifact`] if componentizing fails, and [`BenchError::Guests`] when no
    /// registered path runs the file's kind or two files replace the same path.
    pub fn from_files(files: &[PathBuf], limits: Limits) -> Result<Self, BenchError> {
        let registered = paths();
        let mut guests = Self::default();
        for file in files {
            let load_error = |source| BenchError::Load {
                what: file.display().to_string(),
                source,
            };
            let mut bytes = boundary_host::read_guest_file(file, limits.max_guest_file_bytes)
                .map_err(BenchError::GuestFile)?;
            let mut kind = WasmKind::detect(&bytes).map_err(load_error)?;
            let componentized = kind == WasmKind::CoreModule && has_component_metadata(&bytes);
            if componentized {
                bytes = componentize(&bytes).map_err(|e| match e {
                    BenchError::Artifact { what, source } => BenchError::Artifact {
                        what: format!("{}: {what}", file.display()),
                        source,
                    },
                    other => other,
                })?;
                kind = WasmKind::Component;
            }
            let path = super::super::path_for_kind(&registered, kind)
                .map_err(|failure| {
                    BenchError::Guests(format!("{}: {}", file.display(), failure.line()))
                })?
                .name();
            if let Some(earlier) = guests.files.iter().find(|g| g.path == path) {
                return Err(BenchError::Guests(format!(
                    "{} and {} would both replace the {path} path's guest: give one --guest per kind",
                    earlier.file.display(),
                    file.display()
                )));
            }
            guests.files.push(Replacement {
                path,
                file: file.clone(),
                bytes,
                componentized,
            });
        }
        Ok(guests)
    }

    /// The bytes to measure for a registered path.
    pub fn bytes<'a>(&'a self, registration: &'a Registration) -> &'a [u8] {
        self.file(registration.name)
            .map_or(registration.default_guest, |g| g.bytes.as_slice())
    }

    /// What a path's guest is called in errors: the path, or the file that replaced its guest.
    fn what(&self, registration: &Registration) -> String {
        match self.file(registration.name) {
            Some(g) => format!("{} (--guest for the {} path)", g.file.display(), g.path),
            None => format!("the {} path's embedded guest", registration.name),
        }
    }

    fn file(&self, path: &str) -> Option<&Replacement> {
        self.files.iter().find(|g| g.path == path)
    }

    /// One line per replaced guest, for the report: `component: FILE (componentized)`.
    pub fn describe(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|g| {
                format!(
                    "{}: `{}`{}",
                    g.path,
                    g.file.display(),
                    if g.componentized {
                        " (componentized)"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    }
}

/// Whether a core module carries the `component-type` custom sections wit-bindgen writes.
fn has_component_metadata(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(bytes).any(|payload| {
        matches!(payload, Ok(wasmparser::Payload::CustomSection(section))
            if section.name().starts_with("component-type"))
    })
}

/// Turns a core module built by `wit-bindgen` into a component, as the guests' build script
/// does, so that a core module rebuilt with other settings (or run through `wasm-opt`) can be
/// measured.
///
/// # Errors
///
/// [`BenchError::Artifact`] if the module has no usable component metadata.
pub fn componentize(core_module: &[u8]) -> Result<Vec<u8>, BenchError> {
    wit_component::ComponentEncoder::default()
        .module(core_module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|source| BenchError::Artifact {
            what: "cannot componentize the core module".to_owned(),
            source: source.into(),
        })
}

/// What kind of row it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// `boundary_kernel::transform` on a clone of the input: the floor.
    Native,
    /// A path's [`Instance::transform`] on one reused instance.
    Transform,
    /// The same, the instance from an engine with the pooling allocator.
    Pooled,
    /// One of a path's [`Load::variants`].
    Variant,
}

/// A row of the report: one way to run the transform.
#[derive(Debug, Clone)]
pub struct RowInfo {
    /// `native`, `component/transform`, `component/sync`, ...: also the criterion bench id.
    pub name: String,
    /// What it does, for the report.
    pub about: String,
    /// The registered path it runs, if any.
    pub path: Option<&'static str>,
    /// What kind of row it is.
    pub kind: RowKind,
}

/// The name of the row that runs the floor.
pub const NATIVE: &str = "native";

/// The row name of a path's default call.
pub fn transform_row(path: &str) -> String {
    format!("{path}/transform")
}

/// The row name of a path's default call on an instance from the pooling allocator.
pub fn pooled_row(path: &str) -> String {
    format!("{path}/pooled")
}

/// One way of calling `transform`, ready to be called many times. `executor` is the current-
/// thread runtime async calls are driven on; the harness has entered it, so variants that block
/// on async calls use it too.
trait Caller {
    fn call(
        &mut self,
        executor: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError>;

    /// Calls `iters` times and returns the total time. Outputs are dropped inside the loop.
    fn time(
        &mut self,
        executor: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
        iters: u64,
    ) -> Result<Duration, CallError>;

    /// The linear memory of the instance it reuses, if it is one the harness can see.
    fn memory_bytes(&self) -> Option<usize> {
        None
    }
}

/// Native Rust.
struct Native;

impl Caller for Native {
    fn call(
        &mut self,
        _: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        Ok(Called {
            value: boundary_kernel::transform(input.clone()),
            traffic: Traffic::default(),
        })
    }

    fn time(
        &mut self,
        _: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
        iters: u64,
    ) -> Result<Duration, CallError> {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(boundary_kernel::transform(black_box(input).clone()));
        }
        Ok(start.elapsed())
    }
}

/// A path's [`Instance::transform`] on one reused instance. The timed loop runs inside one
/// `block_on`, so the executor's cost per call is that of an `.await`.
struct Reused<I>(I);

impl<I: Instance> Caller for Reused<I> {
    fn call(
        &mut self,
        executor: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        executor.block_on(self.0.transform(input))
    }

    fn time(
        &mut self,
        executor: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
        iters: u64,
    ) -> Result<Duration, CallError> {
        let instance = &mut self.0;
        executor.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(instance.transform(input).await?);
            }
            Ok(start.elapsed())
        })
    }

    fn memory_bytes(&self) -> Option<usize> {
        Some(self.0.memory_bytes())
    }
}

/// A prepared [`boundary_host::Variant`].
struct Prepared(VariantCall);

impl Caller for Prepared {
    fn call(
        &mut self,
        _: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        (self.0)(input)
    }

    fn time(
        &mut self,
        _: &tokio::runtime::Runtime,
        input: &SomeDataStruct,
        iters: u64,
    ) -> Result<Duration, CallError> {
        let start = Instant::now();
        for _ in 0..iters {
            black_box((self.0)(input)?);
        }
        Ok(start.elapsed())
    }
}

struct Row {
    info: RowInfo,
    caller: Box<dyn Caller>,
}

fn current_thread() -> Result<tokio::runtime::Runtime, BenchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Executor)
}

/// The rows, ready to call: native Rust, then for each registered path its default call on one
/// reused instance and each of its variants, in registration order.
pub struct Harness {
    executor: tokio::runtime::Runtime,
    /// The timed rows: no call hook.
    rows: Vec<Row>,
    /// The same rows on engines that count guest calls: the traffic figures, and what counting
    /// costs.
    counted: Vec<Row>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field(
                "rows",
                &self.rows.iter().map(|r| &r.info.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Calls `row` `iters` times on `workload` and returns the total time.
fn time_row(
    executor: &tokio::runtime::Runtime,
    row: &mut Row,
    workload: &Workload,
    iters: u64,
) -> Result<Duration, BenchError> {
    let _entered = executor.enter();
    let Row { info, caller } = row;
    caller
        .time(executor, &workload.input, iters)
        .map_err(|source| BenchError::Call {
            row: info.name.clone(),
            workload: workload.id.to_owned(),
            source,
        })
}

/// An on-demand and a pooling engine with [`bench_limits`], counting guest calls or not.
fn engines(count_guest_calls: bool) -> Result<(Runtime, Runtime), BenchError> {
    let engine = |allocator| {
        Runtime::new(Limits {
            count_guest_calls,
            ..bench_limits(allocator)
        })
        .map_err(|source| BenchError::Load {
            what: "the engine".to_owned(),
            source,
        })
    };
    Ok((engine(Allocator::OnDemand)?, engine(Allocator::Pooling)?))
}

/// Native Rust, then every registered path's rows, on engines that count guest calls or not.
fn build_rows(
    executor: &tokio::runtime::Runtime,
    guests: &Guests,
    count_guest_calls: bool,
) -> Result<Vec<Row>, BenchError> {
    let (runtime, pooling) = engines(count_guest_calls)?;
    let mut add = AddRows {
        runtime: &runtime,
        pooling: &pooling,
        executor,
        guests,
        rows: vec![Row {
            info: RowInfo {
                name: NATIVE.to_owned(),
                about: "`boundary_kernel::transform(input.clone())`: the floor".to_owned(),
                path: None,
                kind: RowKind::Native,
            },
            caller: Box::new(Native),
        }],
    };
    try_for_each_path(&mut add)?;
    Ok(add.rows)
}

/// Adds a path's rows to the harness: the visitor over the registry.
struct AddRows<'a> {
    runtime: &'a Runtime,
    /// The same engine settings with the pooling allocator.
    pooling: &'a Runtime,
    executor: &'a tokio::runtime::Runtime,
    guests: &'a Guests,
    rows: Vec<Row>,
}

impl TryPathVisitor for AddRows<'_> {
    type Error = BenchError;

    fn try_visit<G: Load>(&mut self, registration: &Registration) -> Result<(), BenchError> {
        let path = registration.name;
        let load = |runtime: &Runtime| {
            G::load(runtime, self.guests.bytes(registration)).map_err(|source| BenchError::Load {
                what: self.guests.what(registration),
                source,
            })
        };
        let guest = load(self.runtime)?;
        let pooled = load(self.pooling)?;
        let setup = |row: String| {
            move |source| BenchError::Call {
                row,
                workload: "setup".to_owned(),
                source,
            }
        };
        for (from, name, about, kind) in [
            (
                &guest,
                transform_row(path),
                format!(
                    "`Instance::transform`, one reused instance, awaited on a current-thread \
                     executor ({})",
                    registration.about
                ),
                RowKind::Transform,
            ),
            (
                &pooled,
                pooled_row(path),
                format!(
                    "as `{path}/transform`, the instance from the pooling allocator (its memory \
                     a slot reserved up front)"
                ),
                RowKind::Pooled,
            ),
        ] {
            let instance = self
                .executor
                .block_on(from.instantiate())
                .map_err(setup(name.clone()))?;
            self.rows.push(Row {
                info: RowInfo {
                    name,
                    about,
                    path: Some(path),
                    kind,
                },
                caller: Box::new(Reused(instance)),
            });
        }
        for variant in G::variants() {
            let name = format!("{path}/{}", variant.name);
            let call = (variant.prepare)(&guest).map_err(setup(name.clone()))?;
            self.rows.push(Row {
                info: RowInfo {
                    name,
                    about: variant.about.to_owned(),
                    path: Some(path),
                    kind: RowKind::Variant,
                },
                caller: Box::new(Prepared(call)),
            });
        }
        Ok(())
    }
}

impl Harness {
    /// Loads every registered path's guest (from `guests`) with [`bench_limits`], and prepares
    /// one instance per row, so that one row's allocations do not shape another's.
    ///
    /// # Errors
    ///
    /// [`BenchError::Load`] or [`BenchError::Call`] if a guest does not load or instantiate.
    pub fn new(guests: &Guests) -> Result<Self, BenchError> {
        let executor = current_thread()?;
        // Variants that block on async calls find this executor and run on it.
        let entered = executor.enter();
        let rows = build_rows(&executor, guests, false)?;
        let counted = build_rows(&executor, guests, true)?;
        drop(entered);
        Ok(Self {
            executor,
            rows,
            counted,
        })
    }

    /// The rows, in report order.
    pub fn rows(&self) -> Vec<RowInfo> {
        self.rows.iter().map(|r| r.info.clone()).collect()
    }

    /// The linear memory of the instance `row` reuses, for the rows whose instance it can see
    /// (each path's default call).
    pub fn memory_bytes(&self, row: usize) -> Option<usize> {
        self.rows.get(row)?.caller.memory_bytes()
    }

    /// Runs `row` once on `workload`, checks its output against native Rust's, and returns
    /// what crossed the boundary.
    ///
    /// # Errors
    ///
    /// [`BenchError::Call`] if the call fails, [`BenchError::Mismatch`] if the output differs.
    ///
    /// # Panics
    ///
    /// If `row` is not an index into [`Harness::rows`].
    pub fn check(&mut self, row: usize, workload: &Workload) -> Result<Traffic, BenchError> {
        let expected = boundary_kernel::transform(workload.input.clone());
        let executor = &self.executor;
        let _entered = executor.enter();
        let mut traffic = Traffic::default();
        for rows in [&mut self.rows, &mut self.counted] {
            let Row { info, caller } = &mut rows[row];
            let called =
                caller
                    .call(executor, &workload.input)
                    .map_err(|source| BenchError::Call {
                        row: info.name.clone(),
                        workload: workload.id.to_owned(),
                        source,
                    })?;
            if called.value != expected {
                return Err(BenchError::Mismatch {
                    row: info.name.clone(),
                    workload: workload.id,
                });
            }
            // The counting twin's, which comes last.
            traffic = called.traffic;
        }
        Ok(traffic)
    }

    /// As [`Harness::time`], on the row's twin that counts guest calls with a call hook.
    ///
    /// # Errors
    ///
    /// [`BenchError::Call`] if a call fails.
    ///
    /// # Panics
    ///
    /// If `row` is not an index into [`Harness::rows`].
    pub fn time_counted(
        &mut self,
        row: usize,
        workload: &Workload,
        iters: u64,
    ) -> Result<Duration, BenchError> {
        time_row(&self.executor, &mut self.counted[row], workload, iters)
    }

    /// Runs `row` `iters` times on `workload` and returns the total time.
    ///
    /// # Errors
    ///
    /// [`BenchError::Call`] if a call fails.
    ///
    /// # Panics
    ///
    /// If `row` is not an index into [`Harness::rows`].
    pub fn time(
        &mut self,
        row: usize,
        workload: &Workload,
        iters: u64,
    ) -> Result<Duration, BenchError> {
        time_row(&self.executor, &mut self.rows[row], workload, iters)
    }
}

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

/// How many rows [`Harness::new`] builds, without building them.
pub fn row_count() -> usize {
    struct Count(usize);
    impl PathVisitor for Count {
        fn visit<G: Load>(&mut self, _: &Registration) {
            // The default call, the same on a pooled instance, and the variants.
            self.0 += 2 + G::variants().len();
        }
    }
    let mut count = Count(1);
    for_each_path(&mut count);
    count.0
}

/// How many figures [`InstHarness::new`] prepares.
pub fn inst_row_count() -> usize {
    paths().len() * InstKind::ALL.len()
}
