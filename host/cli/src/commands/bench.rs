//! The benchmark matrix: every workload on every path, and instantiation for both guests, in one
//! process on the same inputs. `boundary bench` runs it and writes `bench/report.md` and an SVG
//! chart; the criterion benches (`host/benches/boundary.rs`) time the very same closures.
//!
//! Times on a shared machine are noise; ratios measured in one run are not. Samples of all the
//! paths of a workload are therefore interleaved, so drift in the machine's speed hits every
//! path alike, and every figure is reported as a ratio to native Rust as well.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use boundary_kernel::SomeDataStruct;
use wasmtime::Module;
use wasmtime::component::Component;

use crate::component::SyncComponentInstance;
use crate::{
    Allocator, CallError, Called, ComponentGuest, ComponentInstance, Limits, LoadError, RawGuest,
    RawInstance, Runtime, Traffic, embedded,
};

/// The wasmtime release the host is pinned to (`=48.0.8` in the workspace manifest).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// What can stop a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A guest did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A call failed.
    #[error("{path} on {workload}: {source}")]
    Call {
        /// The path.
        path: &'static str,
        /// The workload.
        workload: &'static str,
        /// What went wrong.
        source: CallError,
    },
    /// A path's output differs from native Rust's: the benchmark would time a bug.
    #[error("{path} on {workload}: the output differs from native Rust's")]
    Mismatch {
        /// The path.
        path: &'static str,
        /// The workload.
        workload: &'static str,
    },
    /// Precompiling or deserializing a guest failed.
    #[error("{0}")]
    Artifact(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The browser figures are not the JSON the e2e test writes.
    #[error("{path}: {message}")]
    WebResults {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// One input of the matrix.
#[derive(Debug, Clone)]
pub struct Workload {
    /// `W0` to `W4`.
    pub id: &'static str,
    /// What it is, for the report.
    pub description: &'static str,
    /// The record every path transforms.
    pub input: SomeDataStruct,
}

impl Workload {
    /// The string bytes of the input, the payload throughput is counted in.
    pub fn payload_bytes(&self) -> u64 {
        (self.input.name.len() + self.input.names.iter().map(String::len).sum::<usize>()) as u64
    }
}

/// A deterministic name of exactly `len` ASCII bytes.
fn name_of(index: usize, len: usize) -> String {
    let prefix = format!("n{index:06}-");
    let mut name = String::with_capacity(len);
    name.extend(prefix.chars().chain(('a'..='z').cycle()).take(len));
    name
}

/// The five workloads: the seed's example, many small names, one huge name, some medium ones.
pub fn workloads() -> Vec<Workload> {
    let names = |count: usize, len: usize| (0..count).map(|i| name_of(i, len)).collect();
    vec![
        Workload {
            id: "W0",
            description: "the seed example (name3 / [name1, name2])",
            input: SomeDataStruct::example(),
        },
        Workload {
            id: "W1",
            description: "1,000 names of 16 bytes",
            input: SomeDataStruct {
                name: "w1".into(),
                names: names(1_000, 16),
            },
        },
        Workload {
            id: "W2",
            description: "100,000 names of 16 bytes",
            input: SomeDataStruct {
                name: "w2".into(),
                names: names(100_000, 16),
            },
        },
        Workload {
            id: "W3",
            description: "one name of 1 MiB",
            input: SomeDataStruct {
                name: "w3".into(),
                names: vec![name_of(0, 1 << 20)],
            },
        },
        Workload {
            id: "W4",
            description: "64 names of 16 KiB",
            input: SomeDataStruct {
                name: "w4".into(),
                names: names(64, 16 << 10),
            },
        },
    ]
}

/// A way to run the transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathKind {
    /// `boundary_kernel::transform` on a clone of the input: the floor.
    Native,
    /// The component, called synchronously on one reused instance, its record lowered straight
    /// from the host's (no clone).
    ComponentSync,
    /// The component through the generated sync bindings, which take a clone of the record.
    ComponentSyncBindgen,
    /// The component, called through async bindings on a current-thread executor, reused.
    ComponentAsync,
    /// The component, synchronously, on a fresh instance per call (instantiation included).
    ComponentFresh,
    /// The seed chapter's ptr/len round trip: malloc, write, `entry_point`, copy the output out,
    /// decode, three frees.
    RawSeed,
    /// As the seed, but the host decodes straight from guest memory (the library's default).
    RawInPlace,
    /// As `RawInPlace`, and the guest decodes borrowed strings.
    RawBorrowed,
    /// As `RawBorrowed`, and `entry_point` frees its own input.
    RawConsume,
    /// The tuned path: guest-owned buffers, one write, one call, decoded in place, reused.
    RawTuned,
    /// The tuned path on a fresh instance per call (instantiation included).
    RawTunedFresh,
}

impl PathKind {
    /// Every path, in report order.
    pub const ALL: [PathKind; 11] = [
        Self::Native,
        Self::ComponentSync,
        Self::ComponentSyncBindgen,
        Self::ComponentAsync,
        Self::ComponentFresh,
        Self::RawSeed,
        Self::RawInPlace,
        Self::RawBorrowed,
        Self::RawConsume,
        Self::RawTuned,
        Self::RawTunedFresh,
    ];

    /// The paths the issue's main table asks for.
    pub const MAIN: [PathKind; 5] = [
        Self::Native,
        Self::ComponentSync,
        Self::ComponentAsync,
        Self::RawSeed,
        Self::RawTuned,
    ];

    /// A short name, used as the criterion bench id too.
    pub fn label(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::ComponentSync => "component-sync",
            Self::ComponentSyncBindgen => "component-sync-bindgen",
            Self::ComponentAsync => "component-async",
            Self::ComponentFresh => "component-sync-fresh-instance",
            Self::RawSeed => "raw-seed",
            Self::RawInPlace => "raw-decode-in-place",
            Self::RawBorrowed => "raw-borrowed-guest-decode",
            Self::RawConsume => "raw-entry-frees-input",
            Self::RawTuned => "raw-tuned",
            Self::RawTunedFresh => "raw-tuned-fresh-instance",
        }
    }

    /// What the path does, for the report.
    pub fn description(self) -> &'static str {
        match self {
            Self::Native => "`boundary_kernel::transform(input.clone())`",
            Self::ComponentSync => {
                "canonical ABI, sync, one reused instance; the record is lowered from borrowed data"
            }
            Self::ComponentSyncBindgen => {
                "canonical ABI, sync bindgen! `call_transform` (takes a clone of the record), reused"
            }
            Self::ComponentAsync => {
                "canonical ABI, async bindgen! (takes a clone of the record), one reused instance"
            }
            Self::ComponentFresh => {
                "canonical ABI, sync, a new instance from the `InstancePre` per call"
            }
            Self::RawSeed => {
                "serialize, `ns_malloc`, write, `entry_point`, copy the output to a `Vec`, decode, three `ns_free`s"
            }
            Self::RawInPlace => "as raw-seed, but decoded straight from guest memory (no copy)",
            Self::RawBorrowed => {
                "as raw-decode-in-place, and the guest decodes `&str`s, not `String`s"
            }
            Self::RawConsume => {
                "as raw-borrowed-guest-decode, and `entry_point` frees its input (4 calls)"
            }
            Self::RawTuned => {
                "serialize straight into a guest-owned buffer, `entry_point_tuned(len)`, decode in place; 1 call"
            }
            Self::RawTunedFresh => "raw-tuned on a new instance from the `InstancePre` per call",
        }
    }
}

/// Instances for every path, ready to call.
pub struct Harness {
    executor: tokio::runtime::Runtime,
    component: ComponentGuest,
    raw: RawGuest,
    component_sync: SyncComponentInstance,
    component_async: ComponentInstance,
    /// One instance per raw path, so that one path's allocations do not shape another's.
    raw_instances: Vec<(PathKind, RawInstance)>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

fn call_error(path: PathKind, workload: &'static str) -> impl Fn(CallError) -> BenchError {
    move |source| BenchError::Call {
        path: path.label(),
        workload,
        source,
    }
}

impl Harness {
    /// Loads both guests (the embedded ones unless given) with the default limits, raised so that
    /// W2 and W3 fit, and creates one instance per path.
    ///
    /// # Errors
    ///
    /// [`BenchError::Load`] or [`BenchError::Call`] if a guest does not load or instantiate.
    pub fn new(component: Option<&[u8]>, raw: Option<&[u8]>) -> Result<Self, BenchError> {
        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| BenchError::Io {
                path: PathBuf::from("<tokio runtime>"),
                source,
            })?;
        let runtime = Runtime::new(bench_limits(Allocator::OnDemand))?;
        let component = runtime.component(component.unwrap_or(embedded::COMPONENT))?;
        let raw = runtime.raw(raw.unwrap_or(embedded::CORE_MODULE))?;
        let setup = |path| call_error(path, "setup");
        let component_sync = component
            .instantiate_sync()
            .map_err(setup(PathKind::ComponentSync))?;
        let component_async = executor
            .block_on(component.instantiate())
            .map_err(setup(PathKind::ComponentAsync))?;
        let mut raw_instances = Vec::new();
        for path in [
            PathKind::RawSeed,
            PathKind::RawInPlace,
            PathKind::RawBorrowed,
            PathKind::RawConsume,
            PathKind::RawTuned,
        ] {
            let instance = executor.block_on(raw.instantiate()).map_err(setup(path))?;
            raw_instances.push((path, instance));
        }
        Ok(Self {
            executor,
            component,
            raw,
            component_sync,
            component_async,
            raw_instances,
        })
    }

    /// The linear memory of the instance a raw path reuses, in bytes.
    pub fn raw_memory_size(&mut self, path: PathKind) -> Option<usize> {
        self.raw_instances
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, instance)| instance.memory_size())
    }

    /// Runs `path` once on `workload`, checks its output against native Rust's, and returns
    /// what crossed the boundary.
    ///
    /// # Errors
    ///
    /// [`BenchError::Call`] if the call fails, [`BenchError::Mismatch`] if the output differs.
    pub fn check(&mut self, path: PathKind, workload: &Workload) -> Result<Traffic, BenchError> {
        let expected = boundary_kernel::transform(workload.input.clone());
        let called = self.call(path, workload)?;
        if called.value != expected {
            return Err(BenchError::Mismatch {
                path: path.label(),
                workload: workload.id,
            });
        }
        Ok(called.traffic)
    }

    fn call(
        &mut self,
        path: PathKind,
        workload: &Workload,
    ) -> Result<Called<SomeDataStruct>, BenchError> {
        let input = &workload.input;
        let error = call_error(path, workload.id);
        match path {
            PathKind::Native => Ok(Called {
                value: boundary_kernel::transform(input.clone()),
                traffic: Traffic::default(),
            }),
            PathKind::ComponentSync => self.component_sync.transform(input).map_err(error),
            PathKind::ComponentSyncBindgen => {
                self.component_sync.transform_bindgen(input).map_err(error)
            }
            PathKind::ComponentFresh => self
                .component
                .instantiate_sync()
                .and_then(|mut instance| instance.transform(input))
                .map_err(error),
            PathKind::ComponentAsync => {
                let instance = &mut self.component_async;
                self.executor
                    .block_on(instance.transform(input))
                    .map_err(error)
            }
            PathKind::RawTunedFresh => {
                let raw = &self.raw;
                self.executor
                    .block_on(async {
                        let mut instance = raw.instantiate().await?;
                        instance.transform_tuned(input).await
                    })
                    .map_err(error)
            }
            raw_path => {
                let index = raw_index(&self.raw_instances, raw_path);
                let instance = &mut self.raw_instances[index].1;
                self.executor
                    .block_on(raw_call(instance, raw_path, input))
                    .map_err(error)
            }
        }
    }

    /// Runs `path` `iters` times on `workload` and returns the total time. Outputs are dropped
    /// inside the timed loop on every path, native included. Async paths run the whole loop
    /// inside one `block_on`, so the executor's cost per call is that of an `.await`.
    ///
    /// # Errors
    ///
    /// [`BenchError::Call`] if a call fails.
    pub fn time(
        &mut self,
        path: PathKind,
        workload: &Workload,
        iters: u64,
    ) -> Result<Duration, BenchError> {
        use std::hint::black_box;
        let input = &workload.input;
        let error = call_error(path, workload.id);
        let start = Instant::now();
        match path {
            PathKind::Native => {
                for _ in 0..iters {
                    black_box(boundary_kernel::transform(black_box(input).clone()));
                }
            }
            PathKind::ComponentSync => {
                for _ in 0..iters {
                    black_box(self.component_sync.transform(input).map_err(&error)?);
                }
            }
            PathKind::ComponentSyncBindgen => {
                for _ in 0..iters {
                    black_box(
                        self.component_sync
                            .transform_bindgen(input)
                            .map_err(&error)?,
                    );
                }
            }
            PathKind::ComponentFresh => {
                for _ in 0..iters {
                    let mut instance = self.component.instantiate_sync().map_err(&error)?;
                    black_box(instance.transform(input).map_err(&error)?);
                }
            }
            PathKind::ComponentAsync => {
                let instance = &mut self.component_async;
                self.executor
                    .block_on(async {
                        for _ in 0..iters {
                            black_box(instance.transform(input).await?);
                        }
                        Ok(())
                    })
                    .map_err(error)?;
            }
            PathKind::RawTunedFresh => {
                let raw = &self.raw;
                self.executor
                    .block_on(async {
                        for _ in 0..iters {
                            let mut instance = raw.instantiate().await?;
                            black_box(instance.transform_tuned(input).await?);
                        }
                        Ok(())
                    })
                    .map_err(error)?;
            }
            raw_path => {
                let index = raw_index(&self.raw_instances, raw_path);
                let instance = &mut self.raw_instances[index].1;
                self.executor
                    .block_on(async {
                        for _ in 0..iters {
                            black_box(raw_call(instance, raw_path, input).await?);
                        }
                        Ok(())
                    })
                    .map_err(error)?;
            }
        }
        Ok(start.elapsed())
    }
}

fn raw_index(instances: &[(PathKind, RawInstance)], path: PathKind) -> usize {
    instances.iter().position(|(p, _)| *p == path).unwrap_or(0)
}

async fn raw_call(
    instance: &mut RawInstance,
    path: PathKind,
    input: &SomeDataStruct,
) -> Result<Called<SomeDataStruct>, CallError> {
    match path {
        PathKind::RawSeed => instance.transform_seed(input).await,
        PathKind::RawBorrowed => instance.transform_borrowed(input).await,
        PathKind::RawConsume => instance.transform_consume(input).await,
        PathKind::RawTuned => instance.transform_tuned(input).await,
        _ => instance.transform(input).await,
    }
}

/// The library defaults, with room for W2 and W3 and a deadline no slow sample reaches.
pub fn bench_limits(allocator: Allocator) -> Limits {
    Limits {
        max_memory_bytes: 256 << 20,
        deadline: Duration::from_secs(30),
        allocator,
        ..Limits::default()
    }
}

/// Which guest an instantiation figure is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestKind {
    /// The `transformer` component.
    Component,
    /// The ptr/len core module.
    Raw,
}

impl GuestKind {
    /// Both, in report order.
    pub const ALL: [GuestKind; 2] = [Self::Component, Self::Raw];

    /// A short name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Component => "component",
            Self::Raw => "raw",
        }
    }
}

/// A way to get an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstKind {
    /// `Component::new` / `Module::new`: validate and compile with Cranelift.
    Compile,
    /// `Component::deserialize` / `Module::deserialize` of an artifact precompiled by this engine.
    Deserialize,
    /// A new store and instance from the prepared `InstancePre`, on-demand allocator; dropped.
    InstantiateOnDemand,
    /// The same with the pooling allocator.
    InstantiatePooling,
}

impl InstKind {
    /// All four, in report order.
    pub const ALL: [InstKind; 4] = [
        Self::Compile,
        Self::Deserialize,
        Self::InstantiateOnDemand,
        Self::InstantiatePooling,
    ];

    /// A short name, used as the criterion bench id too.
    pub fn label(self) -> &'static str {
        match self {
            Self::Compile => "compile-from-bytes",
            Self::Deserialize => "deserialize-precompiled",
            Self::InstantiateOnDemand => "instantiate-pre-on-demand",
            Self::InstantiatePooling => "instantiate-pre-pooling",
        }
    }
}

/// Everything the instantiation figures need, prepared once.
pub struct InstHarness {
    executor: tokio::runtime::Runtime,
    on_demand: Runtime,
    component_bytes: Vec<u8>,
    raw_bytes: Vec<u8>,
    component_artifact: Vec<u8>,
    raw_artifact: Vec<u8>,
    guests: [(ComponentGuest, RawGuest); 2],
}

impl std::fmt::Debug for InstHarness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstHarness").finish_non_exhaustive()
    }
}

impl InstHarness {
    /// Precompiles both guests and loads them on an on-demand and a pooling engine.
    ///
    /// # Errors
    ///
    /// [`BenchError::Load`] or [`BenchError::Artifact`] if a guest does not load or precompile.
    pub fn new(component: Option<&[u8]>, raw: Option<&[u8]>) -> Result<Self, BenchError> {
        let component_bytes = component.unwrap_or(embedded::COMPONENT).to_vec();
        let raw_bytes = raw.unwrap_or(embedded::CORE_MODULE).to_vec();
        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| BenchError::Io {
                path: PathBuf::from("<tokio runtime>"),
                source,
            })?;
        let on_demand = Runtime::new(bench_limits(Allocator::OnDemand))?;
        let pooling = Runtime::new(bench_limits(Allocator::Pooling))?;
        let artifact = |e: wasmtime::Error| BenchError::Artifact(format!("{e:#}"));
        let component_artifact = on_demand
            .engine()
            .precompile_component(&component_bytes)
            .map_err(artifact)?;
        let raw_artifact = on_demand
            .engine()
            .precompile_module(&raw_bytes)
            .map_err(artifact)?;
        let guests = [
            (
                on_demand.component(&component_bytes)?,
                on_demand.raw(&raw_bytes)?,
            ),
            (
                pooling.component(&component_bytes)?,
                pooling.raw(&raw_bytes)?,
            ),
        ];
        Ok(Self {
            executor,
            on_demand,
            component_bytes,
            raw_bytes,
            component_artifact,
            raw_artifact,
            guests,
        })
    }

    /// Gets an instance (or a compiled guest) `iters` times and returns the total time.
    /// Instances are dropped inside the timed loop, as a server dropping them after a request
    /// would.
    ///
    /// # Errors
    ///
    /// [`BenchError::Artifact`] or [`BenchError::Call`] if a step fails.
    pub fn time(
        &mut self,
        guest: GuestKind,
        kind: InstKind,
        iters: u64,
    ) -> Result<Duration, BenchError> {
        use std::hint::black_box;
        let engine = self.on_demand.engine();
        let artifact = |e: wasmtime::Error| BenchError::Artifact(format!("{e:#}"));
        let error = |source| BenchError::Call {
            path: guest.label(),
            workload: kind.label(),
            source,
        };
        let start = Instant::now();
        for _ in 0..iters {
            match (guest, kind) {
                (GuestKind::Component, InstKind::Compile) => {
                    black_box(Component::new(engine, &self.component_bytes).map_err(artifact)?);
                }
                (GuestKind::Raw, InstKind::Compile) => {
                    black_box(Module::new(engine, &self.raw_bytes).map_err(artifact)?);
                }
                (GuestKind::Component, InstKind::Deserialize) => {
                    // SAFETY: the artifact was produced by `precompile_component` on this very
                    // engine in this process and has not been modified since.
                    let component =
                        unsafe { Component::deserialize(engine, &self.component_artifact) };
                    black_box(component.map_err(artifact)?);
                }
                (GuestKind::Raw, InstKind::Deserialize) => {
                    // SAFETY: as above, from `precompile_module` on this engine.
                    let module = unsafe { Module::deserialize(engine, &self.raw_artifact) };
                    black_box(module.map_err(artifact)?);
                }
                (guest, kind) => {
                    let (component, raw) =
                        &self.guests[usize::from(kind == InstKind::InstantiatePooling)];
                    match guest {
                        GuestKind::Component => {
                            black_box(component.instantiate_sync().map_err(error)?);
                        }
                        GuestKind::Raw => {
                            black_box(self.executor.block_on(raw.instantiate()).map_err(error)?);
                        }
                    }
                }
            }
        }
        Ok(start.elapsed())
    }
}

/// How long and how often to sample.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Samples per cell; the median is reported.
    pub samples: usize,
    /// Each sample repeats the call until it lasts at least this long.
    pub sample_target: Duration,
    /// Samples per instantiation figure.
    pub inst_samples: usize,
}

impl Plan {
    /// The full run.
    pub const FULL: Plan = Plan {
        samples: 41,
        sample_target: Duration::from_millis(8),
        inst_samples: 21,
    };
    /// `--quick`: fewer, shorter samples.
    pub const QUICK: Plan = Plan {
        samples: 7,
        sample_target: Duration::from_millis(1),
        inst_samples: 5,
    };
}

/// One measured cell.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The workload id.
    pub workload: &'static str,
    /// The path.
    pub path: PathKind,
    /// Median time per transform.
    pub median: Duration,
    /// What one transform moved across the boundary (after the first call).
    pub traffic: Traffic,
}

/// One instantiation figure.
#[derive(Debug, Clone)]
pub struct InstCell {
    /// The guest.
    pub guest: GuestKind,
    /// How the instance (or compiled guest) was obtained.
    pub kind: InstKind,
    /// Median time per instance.
    pub median: Duration,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Results {
    /// The workloads, in order.
    pub workloads: Vec<Workload>,
    /// Every workload × path.
    pub cells: Vec<Cell>,
    /// Instantiation, both guests.
    pub inst: Vec<InstCell>,
    /// Raw-tuned instance memory before and after its samples: (before, after), per workload.
    pub tuned_memory: Vec<(&'static str, usize, usize)>,
    /// Whether this was a `--quick` run.
    pub quick: bool,
}

impl Results {
    /// The median of a cell.
    pub fn median(&self, workload: &str, path: PathKind) -> Option<Duration> {
        self.cell(workload, path).map(|c| c.median)
    }

    /// A cell.
    pub fn cell(&self, workload: &str, path: PathKind) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.workload == workload && c.path == path)
    }

    /// A path's time over native's on a workload.
    pub fn ratio(&self, workload: &str, path: PathKind) -> Option<f64> {
        Some(ratio(
            self.median(workload, path)?,
            self.median(workload, PathKind::Native)?,
        ))
    }

    fn inst_median(&self, guest: GuestKind, kind: InstKind) -> Option<Duration> {
        self.inst
            .iter()
            .find(|c| c.guest == guest && c.kind == kind)
            .map(|c| c.median)
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Runs the matrix: for each workload, every path is checked against native Rust and
/// calibrated, then the paths' samples are taken round-robin. `tick` is called after each
/// sample with a description of the cell; [`total_samples`] says how many there will be.
///
/// # Errors
///
/// Any [`BenchError`] from loading, calling or checking.
pub fn run(
    plan: Plan,
    quick: bool,
    component: Option<&[u8]>,
    raw: Option<&[u8]>,
    mut tick: impl FnMut(&str),
) -> Result<Results, BenchError> {
    let workloads = workloads();
    let mut harness = Harness::new(component, raw)?;
    let mut cells = Vec::new();
    let mut tuned_memory = Vec::new();
    for workload in &workloads {
        let mut per_path = Vec::new();
        for path in PathKind::ALL {
            harness.check(path, workload)?;
            // The second call shows the steady state (the tuned path's buffers exist by then).
            let traffic = harness.check(path, workload)?;
            let once = harness
                .time(path, workload, 1)?
                .max(Duration::from_nanos(1));
            let iters = (plan.sample_target.as_nanos() / once.as_nanos()).clamp(1, 1_000_000);
            per_path.push((path, traffic, u64::try_from(iters).unwrap_or(1), Vec::new()));
        }
        let memory_before = harness.raw_memory_size(PathKind::RawTuned).unwrap_or(0);
        for _ in 0..plan.samples {
            for (path, _, iters, samples) in &mut per_path {
                let total = harness.time(*path, workload, *iters)?;
                samples.push(total / u32::try_from(*iters).unwrap_or(u32::MAX));
                tick(&format!("{} {}", workload.id, path.label()));
            }
        }
        let memory_after = harness.raw_memory_size(PathKind::RawTuned).unwrap_or(0);
        tuned_memory.push((workload.id, memory_before, memory_after));
        for (path, traffic, _, mut samples) in per_path {
            cells.push(Cell {
                workload: workload.id,
                path,
                median: median(&mut samples),
                traffic,
            });
        }
    }
    drop(harness);

    let mut inst_harness = InstHarness::new(component, raw)?;
    let mut inst = Vec::new();
    for guest in GuestKind::ALL {
        for kind in InstKind::ALL {
            let once = inst_harness
                .time(guest, kind, 1)?
                .max(Duration::from_nanos(1));
            let iters =
                u64::try_from((plan.sample_target.as_nanos() / once.as_nanos()).clamp(1, 100_000))
                    .unwrap_or(1);
            let mut samples = Vec::new();
            for _ in 0..plan.inst_samples {
                let total = inst_harness.time(guest, kind, iters)?;
                samples.push(total / u32::try_from(iters).unwrap_or(u32::MAX));
                tick(&format!("{} {}", guest.label(), kind.label()));
            }
            inst.push(InstCell {
                guest,
                kind,
                median: median(&mut samples),
            });
        }
    }
    Ok(Results {
        workloads,
        cells,
        inst,
        tuned_memory,
        quick,
    })
}

/// The number of times [`run`] calls its `tick`.
pub fn total_samples(plan: Plan) -> u64 {
    (workloads().len() * PathKind::ALL.len() * plan.samples
        + GuestKind::ALL.len() * InstKind::ALL.len() * plan.inst_samples) as u64
}

/// Formats a duration with three significant digits.
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.3} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.3} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

fn fmt_throughput(bytes: u64, d: Duration) -> String {
    let per_sec = bytes as f64 / d.as_secs_f64().max(1e-12);
    if per_sec >= 1e9 {
        format!("{:.2} GB/s", per_sec / 1e9)
    } else if per_sec >= 1e6 {
        format!("{:.1} MB/s", per_sec / 1e6)
    } else {
        format!("{:.2} MB/s", per_sec / 1e6)
    }
}

/// The machine the run happened on, for the report's header.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo` where there is one.
    pub cpu: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// `rustc --version`, if rustc is on the PATH.
    pub rustc: String,
    /// The OS and architecture.
    pub os: String,
}

impl Machine {
    /// Looks the machine up.
    pub fn detect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "rustc (unknown version)".to_owned());
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            rustc,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// Markers around the browser section, so `--web-only` can replace it in place.
const WEB_START: &str = "<!-- web:start -->";
const WEB_END: &str = "<!-- web:end -->";

/// The browser figures the Playwright run writes to `web/test-results/comparison.json`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebResults {
    /// The browser's user agent.
    pub browser: String,
    /// The unit of the figures.
    pub unit: String,
    /// One row per case.
    pub cases: Vec<WebCase>,
    /// Shipped sizes per path.
    #[serde(default)]
    pub shipped_bytes: Vec<WebShipped>,
}

/// One browser case.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebCase {
    /// The case's name.
    pub case: String,
    /// The jco path's median, in [`WebResults::unit`].
    pub component_us: f64,
    /// The TypeScript ptr/len path's median.
    pub raw_us: f64,
    /// Whether both gave the same output.
    pub equal: bool,
}

/// What a browser path ships.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebShipped {
    /// The path.
    pub path: String,
    /// Bytes of JavaScript glue.
    pub glue_js: u64,
    /// Bytes of wasm.
    pub wasm: u64,
}

/// Reads the browser figures.
///
/// # Errors
///
/// [`BenchError::Io`] or [`BenchError::WebResults`].
pub fn read_web_results(path: &Path) -> Result<WebResults, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| BenchError::WebResults {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The browser section of the report, markers included.
pub fn web_section(web: Option<&WebResults>) -> String {
    let mut out = String::new();
    out.push_str(WEB_START);
    out.push_str("\n## Browser (jco component vs hand-written TypeScript ptr/len)\n\n");
    let Some(web) = web else {
        out.push_str(
            "Not measured in this run: `just bench-web` runs the Playwright comparison and fills \
             this section in.\n",
        );
        out.push_str(WEB_END);
        out.push('\n');
        return out;
    };
    let _ = writeln!(
        out,
        "Browser: {}. Figures: {}. The inputs are the browser panel's own \
         (`web/src/Comparison.tsx`): its names are 11 bytes, not 16, and its 1 MiB name is \
         `é` × 524,288.\n",
        web.browser, web.unit
    );
    out.push_str(
        "| case | jco component | TS ptr/len | component / ptr-len | faster | equal output |\n",
    );
    out.push_str("|---|---:|---:|---:|---|---|\n");
    for case in &web.cases {
        let ratio = case.component_us / case.raw_us.max(1e-9);
        let faster = if ratio < 1.0 { "component" } else { "ptr/len" };
        let _ = writeln!(
            out,
            "| {} | {:.1} µs | {:.1} µs | {ratio:.2}× | {faster} | {} |",
            case.case, case.component_us, case.raw_us, case.equal
        );
    }
    if let Some(w2) = web.cases.iter().find(|c| c.case.contains("100,000")) {
        let ratio = w2.component_us / w2.raw_us.max(1e-9);
        let _ = writeln!(
            out,
            "\nGoal, W2 in the browser: jco within 2× of the ptr/len path: **{ratio:.2}×, {}**.",
            if ratio <= 2.0 { "met" } else { "missed" }
        );
    }
    if !web.shipped_bytes.is_empty() {
        out.push_str("\n| path | JS glue | wasm |\n|---|---:|---:|\n");
        for shipped in &web.shipped_bytes {
            let _ = writeln!(
                out,
                "| {} | {} B | {} B |",
                shipped.path, shipped.glue_js, shipped.wasm
            );
        }
    }
    out.push_str(WEB_END);
    out.push('\n');
    out
}

/// Replaces the browser section of an existing report (or appends one).
pub fn replace_web_section(report: &str, web: &WebResults) -> String {
    replace_section(report, &web_section(Some(web)))
}

/// The browser section of a report, markers included, if it holds figures.
fn measured_web_section(report: &str) -> Option<&str> {
    let start = report.find(WEB_START)?;
    let end = report[start..].find(WEB_END)? + start + WEB_END.len();
    let section = &report[start..end];
    (!section.contains("Not measured in this run")).then_some(section)
}

fn replace_section(report: &str, section: &str) -> String {
    let section = format!("{}\n", section.trim_end());
    match (report.find(WEB_START), report.find(WEB_END)) {
        (Some(start), Some(end)) if end > start => {
            let end = end + WEB_END.len();
            let rest = report[end..].strip_prefix('\n').unwrap_or(&report[end..]);
            format!("{}{section}{rest}", &report[..start])
        }
        _ => format!("{report}\n{section}"),
    }
}

/// A goal of the issue and how this run did against it.
#[derive(Debug, Clone)]
pub struct Goal {
    /// What is measured.
    pub what: String,
    /// The bound.
    pub target: f64,
    /// The measured ratio, if both cells exist.
    pub measured: Option<f64>,
}

impl Goal {
    /// Met, missed, or not measured.
    pub fn verdict(&self) -> &'static str {
        match self.measured {
            Some(m) if m <= self.target => "met",
            Some(_) => "missed",
            None => "not measured",
        }
    }
}

/// The goals of the issue that this run measures (the browser goal is in its own section).
pub fn goals(results: &Results) -> Vec<Goal> {
    let r = |w: &str, p| results.ratio(w, p);
    let per_call = |a, b| Some(ratio(results.median("W0", a)?, results.median("W0", b)?));
    let pooling = |guest| {
        Some(ratio(
            results.inst_median(guest, InstKind::InstantiatePooling)?,
            results.inst_median(guest, InstKind::InstantiateOnDemand)?,
        ))
    };
    vec![
        Goal {
            what: "W3 (1 MiB): component (sync) / native".into(),
            target: 3.0,
            measured: r("W3", PathKind::ComponentSync),
        },
        Goal {
            what: "W3 (1 MiB): raw tuned / native".into(),
            target: 3.0,
            measured: r("W3", PathKind::RawTuned),
        },
        Goal {
            what: "W2 (100,000 × 16 B): component (sync) / native".into(),
            target: 4.0,
            measured: r("W2", PathKind::ComponentSync),
        },
        Goal {
            what: "W2 (100,000 × 16 B): raw tuned / native".into(),
            target: 3.0,
            measured: r("W2", PathKind::RawTuned),
        },
        Goal {
            what: "W0 per call: component (sync) / raw (seed)".into(),
            target: 1.5,
            measured: per_call(PathKind::ComponentSync, PathKind::RawSeed),
        },
        Goal {
            what: "W0 per call: component (sync) / raw (tuned)".into(),
            target: 1.5,
            measured: per_call(PathKind::ComponentSync, PathKind::RawTuned),
        },
        Goal {
            what: "instantiate, component: pooling / on-demand".into(),
            target: 0.5,
            measured: pooling(GuestKind::Component),
        },
        Goal {
            what: "instantiate, raw: pooling / on-demand".into(),
            target: 0.5,
            measured: pooling(GuestKind::Raw),
        },
    ]
}

/// The report, in Markdown. `chart` is the SVG's file name, relative to the report.
pub fn markdown(
    results: &Results,
    machine: &Machine,
    chart: &str,
    web: Option<&WebResults>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark report\n");
    let _ = writeln!(
        out,
        "Generated by `boundary bench{}` (see `just bench`). Every cell below comes from this \
         one run: ratios are comparable, absolute times on a shared machine are not.\n",
        if results.quick { " --quick" } else { "" }
    );
    let _ = writeln!(
        out,
        "- Machine: {} logical CPUs, {} ({}), shared\n- Toolchain: {}; wasmtime {WASMTIME_VERSION}; \
         guests built with the workspace's `[profile.guest]`\n- Host build: {}\n- Method: each cell is \
         the median of {} samples; a sample repeats the call for at least {:?}. The samples of all \
         paths of one workload are taken round-robin. Every path's output is checked against native \
         Rust's before timing. Outputs are dropped inside the timed loop on every path.\n",
        machine.cores,
        machine.cpu,
        machine.os,
        machine.rustc,
        if cfg!(debug_assertions) {
            "debug (figures are not representative)"
        } else {
            "release"
        },
        if results.quick {
            Plan::QUICK.samples
        } else {
            Plan::FULL.samples
        },
        if results.quick {
            Plan::QUICK.sample_target
        } else {
            Plan::FULL.sample_target
        },
    );
    let _ = writeln!(out, "![ratio to native, log scale]({chart})\n");

    out.push_str("## Goals\n\n| goal | bound | measured | verdict |\n|---|---:|---:|---|\n");
    for goal in goals(results) {
        let _ = writeln!(
            out,
            "| {} | ≤ {:.1}× | {} | {} |",
            goal.what,
            goal.target,
            goal.measured.map_or("–".to_owned(), |m| format!("{m:.2}×")),
            goal.verdict()
        );
    }
    out.push_str(
        "\nThe browser goal (W2, jco within 2× of the TypeScript ptr/len path) is in the browser \
         section below. Misses are explained in the README's Performance section, with the counts \
         from the tables here.\n\n",
    );

    out.push_str("## Ratio to native, every path × workload\n\n| path |");
    for w in &results.workloads {
        let _ = write!(out, " {} |", w.id);
    }
    out.push_str("\n|---|");
    for _ in &results.workloads {
        out.push_str("---:|");
    }
    out.push('\n');
    for path in PathKind::ALL {
        let _ = write!(out, "| {} |", path.label());
        for w in &results.workloads {
            let _ = write!(
                out,
                " {} |",
                results
                    .ratio(w.id, path)
                    .map_or("–".to_owned(), |r| format!("{r:.2}×"))
            );
        }
        out.push('\n');
    }
    out.push_str("\n### The paths\n\n| path | what it does |\n|---|---|\n");
    for path in PathKind::ALL {
        let _ = writeln!(out, "| {} | {} |", path.label(), path.description());
    }

    for w in &results.workloads {
        let _ = writeln!(
            out,
            "\n## {}: {} ({} payload bytes)\n",
            w.id,
            w.description,
            w.payload_bytes()
        );
        out.push_str(
            "| path | median | throughput | × native | guest calls / transform | bytes in | bytes out |\n\
             |---|---:|---:|---:|---:|---:|---:|\n",
        );
        for path in PathKind::ALL {
            let Some(cell) = results.cell(w.id, path) else {
                continue;
            };
            let t = cell.traffic;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2}× | {} | {} | {} |",
                path.label(),
                fmt_duration(cell.median),
                fmt_throughput(w.payload_bytes(), cell.median),
                results.ratio(w.id, path).unwrap_or(f64::NAN),
                t.guest_calls,
                t.bytes_in,
                t.bytes_out,
            );
        }
    }
    out.push_str(
        "\nGuest calls are counted by a store call hook: on the component path, the export plus one \
         `cabi_realloc` per string and list the canonical ABI places in guest memory; on the raw \
         paths, every export the host calls. Bytes in/out are payload bytes copied into and out of \
         guest memory (canonical layout for the component, postcard plus the 8-byte result region \
         for raw). The fresh-instance rows include instantiation.\n",
    );

    out.push_str("\n## Raw tuned: instance reuse and memory growth\n\n");
    out.push_str(
        "| workload | memory before the samples | after | growth |\n|---|---:|---:|---:|\n",
    );
    for (id, before, after) in &results.tuned_memory {
        let _ = writeln!(
            out,
            "| {id} | {before} B | {after} B | {} B |",
            after.saturating_sub(*before)
        );
    }

    out.push_str("\n## Instantiation\n\n| guest | how | median | × on-demand `InstancePre` |\n|---|---|---:|---:|\n");
    for guest in GuestKind::ALL {
        let base = results.inst_median(guest, InstKind::InstantiateOnDemand);
        for kind in InstKind::ALL {
            if let Some(m) = results.inst_median(guest, kind) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    guest.label(),
                    kind.label(),
                    fmt_duration(m),
                    base.map_or("–".to_owned(), |b| format!("{:.2}×", ratio(m, b)))
                );
            }
        }
    }
    out.push_str(
        "\nInstantiate rows create a store (with its limiter, call hook and an empty WASI context), \
         instantiate from the prepared `InstancePre`, and drop both. The pooling engine reserves \
         slots for 128 memories of up to 256 MiB.\n\n",
    );
    out.push_str(
        "Guest build settings and `wasm-opt` were measured separately: see \
         [tuning.md](tuning.md).\n\n",
    );
    out.push_str(&web_section(web));
    out
}

/// A horizontal bar chart of the main paths' ratios to native, on a log scale.
pub fn svg(results: &Results) -> String {
    const COLORS: [&str; 5] = ["#888888", "#1f77b4", "#6baed6", "#d62728", "#2ca02c"];
    let paths = PathKind::MAIN;
    let bar = 14.0;
    let group_gap = 18.0;
    let left = 210.0;
    let width = 820.0;
    let plot = width - left - 70.0;
    let top = 50.0;
    let max_ratio = results
        .cells
        .iter()
        .filter(|c| paths.contains(&c.path))
        .filter_map(|c| results.ratio(c.workload, c.path))
        .fold(1.0_f64, f64::max)
        .max(10.0);
    let mut whole_decades = 1_u8;
    while 10f64.powi(i32::from(whole_decades)) < max_ratio && whole_decades < 12 {
        whole_decades += 1;
    }
    let decades = f64::from(whole_decades);
    let x = |ratio: f64| left + plot * (ratio.max(1e-3).log10().max(-0.3) + 0.3) / (decades + 0.3);
    let group_height = bar * paths.len() as f64 + group_gap;
    let height = top + group_height * results.workloads.len() as f64 + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="10" y="20" font-size="14" font-weight="bold">Time per transform, as a multiple of native Rust (log scale; lower is better)</text>"##
    );
    // Gridlines at 0.5, 1, 10, 100, ...
    let mut grid = vec![0.5];
    grid.extend((0..=i32::from(whole_decades)).map(|d| 10f64.powi(d)));
    for g in grid {
        let gx = x(g);
        let _ = writeln!(
            out,
            r##"<line x1="{gx:.1}" y1="{:.1}" x2="{gx:.1}" y2="{:.1}" stroke="#dddddd"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{g}×</text>"##,
            top - 8.0,
            height - 30.0,
            height - 16.0
        );
    }
    for (gi, w) in results.workloads.iter().enumerate() {
        let gy = top + gi as f64 * group_height;
        let _ = writeln!(
            out,
            r##"<text x="10" y="{:.1}" font-weight="bold">{}</text><text x="10" y="{:.1}" fill="#555">{}</text>"##,
            gy + 10.0,
            w.id,
            gy + 24.0,
            // The part before any parenthesis fits beside the bars.
            w.description
                .split(" (")
                .next()
                .unwrap_or_default()
                .replace('&', "&amp;")
        );
        for (pi, path) in paths.iter().enumerate() {
            let Some(r) = results.ratio(w.id, *path) else {
                continue;
            };
            let y = gy + pi as f64 * bar;
            let x0 = x(0.5);
            let x1 = x(r);
            let _ = writeln!(
                out,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}">{} {r:.2}×</text>"#,
                (x1 - x0).max(1.0),
                bar - 2.0,
                COLORS[pi],
                x1 + 4.0,
                y + bar - 4.0,
                path.label()
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Writes the report and its chart. The chart goes next to the report as `chart.svg`.
///
/// # Errors
///
/// [`BenchError::Io`] if a file cannot be written.
pub fn write_report(
    results: &Results,
    out: &Path,
    web: Option<&WebResults>,
) -> Result<PathBuf, BenchError> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| BenchError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    let chart = dir.map_or_else(|| PathBuf::from("chart.svg"), |d| d.join("chart.svg"));
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|source| BenchError::Io {
            path: path.to_owned(),
            source,
        })
    };
    write(&chart, &svg(results))?;
    let mut report = markdown(results, &Machine::detect(), "chart.svg", web);
    // Without new browser figures, keep the ones an earlier `--web-only` merged.
    if web.is_none()
        && let Ok(old) = std::fs::read_to_string(out)
        && let Some(section) = measured_web_section(&old)
    {
        report = replace_section(&report, section);
    }
    write(out, &report)?;
    Ok(chart)
}

/// Puts fresh browser figures into an existing report without rerunning anything else.
///
/// # Errors
///
/// [`BenchError::Io`] or [`BenchError::WebResults`].
pub fn merge_web_results(report: &Path, web_results: &Path) -> Result<(), BenchError> {
    let web = read_web_results(web_results)?;
    let text = std::fs::read_to_string(report).map_err(|source| BenchError::Io {
        path: report.to_owned(),
        source,
    })?;
    std::fs::write(report, replace_web_section(&text, &web)).map_err(|source| BenchError::Io {
        path: report.to_owned(),
        source,
    })
}

/// What `boundary bench` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Fewer, shorter samples.
    pub quick: bool,
    /// Where the report goes; the chart goes next to it.
    pub out: PathBuf,
    /// Browser figures to include (`web/test-results/comparison.json`).
    pub web_results: Option<PathBuf>,
    /// Only merge `web_results` into the existing report; measure nothing.
    pub web_only: bool,
    /// A component (or a core module with component metadata, componentized here) to measure
    /// instead of the embedded one.
    pub component: Option<PathBuf>,
    /// A ptr/len core module to measure instead of the embedded one.
    pub raw: Option<PathBuf>,
}

/// Turns a core module built by `wit-bindgen` into a component, as `build.rs` does, so that a
/// core module rebuilt with other settings (or run through `wasm-opt`) can be measured.
///
/// # Errors
///
/// [`BenchError::Artifact`] if the module has no usable component metadata.
pub fn componentize(core_module: &[u8]) -> Result<Vec<u8>, BenchError> {
    wit_component::ComponentEncoder::default()
        .module(core_module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| BenchError::Artifact(format!("cannot componentize: {e:#}")))
}

fn read(path: &Path) -> Result<Vec<u8>, BenchError> {
    std::fs::read(path).map_err(|source| BenchError::Io {
        path: path.to_owned(),
        source,
    })
}

/// `boundary bench`: runs the matrix with a progress bar on its own thread (the harness runs
/// its own executor), writes the report and the chart, and prints the goals.
///
/// # Errors
///
/// Any [`BenchError`].
pub fn command(options: Options) -> Result<(), BenchError> {
    std::thread::spawn(move || command_on_this_thread(&options))
        .join()
        .unwrap_or_else(|_| {
            Err(BenchError::Artifact(
                "the benchmark thread panicked".to_owned(),
            ))
        })
}

fn command_on_this_thread(options: &Options) -> Result<(), BenchError> {
    if options.web_only {
        let web = options
            .web_results
            .as_deref()
            .unwrap_or(Path::new("web/test-results/comparison.json"));
        merge_web_results(&options.out, web)?;
        println!("merged {} into {}", web.display(), options.out.display());
        return Ok(());
    }
    let web = options
        .web_results
        .as_deref()
        .map(read_web_results)
        .transpose()?;
    let component = match &options.component {
        Some(path) => {
            let bytes = read(path)?;
            Some(match crate::inspect::WasmKind::detect(&bytes) {
                Ok(crate::inspect::WasmKind::CoreModule) => componentize(&bytes)?,
                _ => bytes,
            })
        }
        None => None,
    };
    let raw = options.raw.as_deref().map(read).transpose()?;
    let plan = if options.quick {
        Plan::QUICK
    } else {
        Plan::FULL
    };
    let bar = indicatif::ProgressBar::new(total_samples(plan));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} samples  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let results = run(
        plan,
        options.quick,
        component.as_deref(),
        raw.as_deref(),
        |cell| {
            bar.set_message(cell.to_owned());
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    let results = results?;
    let chart = write_report(&results, &options.out, web.as_ref())?;
    println!("wrote {} and {}", options.out.display(), chart.display());
    for goal in goals(&results) {
        println!(
            "  {:<50} ≤ {:>4.1}×  {:>8}  {}",
            goal.what,
            goal.target,
            goal.measured.map_or("–".to_owned(), |m| format!("{m:.2}×")),
            goal.verdict()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_have_the_sizes_the_issue_names() {
        let w = workloads();
        assert_eq!(w[1].input.names.len(), 1_000);
        assert!(w[1].input.names.iter().all(|n| n.len() == 16));
        assert_eq!(w[2].input.names.len(), 100_000);
        assert!(w[2].input.names.iter().all(|n| n.len() == 16));
        assert_eq!(w[3].input.names[0].len(), 1 << 20);
        assert_eq!(w[4].input.names.len(), 64);
        assert!(w[4].input.names.iter().all(|n| n.len() == 16 << 10));
    }

    #[test]
    fn every_path_agrees_with_native_rust() {
        let mut harness = Harness::new(None, None).unwrap();
        for workload in &workloads()[..2] {
            for path in PathKind::ALL {
                harness.check(path, workload).unwrap();
                let traffic = harness.check(path, workload).unwrap();
                if path == PathKind::RawTuned {
                    assert_eq!(traffic.guest_calls, 1, "one call once the buffers exist");
                }
            }
        }
    }

    #[test]
    fn the_web_section_is_replaced_in_place() {
        let web = WebResults {
            browser: "test".into(),
            unit: "µs".into(),
            cases: vec![WebCase {
                case: "100,000 names".into(),
                component_us: 3.0,
                raw_us: 2.0,
                equal: true,
            }],
            shipped_bytes: vec![],
        };
        let report = format!("# r\n\n{}\ntail\n", web_section(None));
        let merged = replace_web_section(&report, &web);
        assert!(merged.starts_with("# r\n\n"));
        assert!(merged.contains("1.50×, met"));
        assert!(merged.ends_with("tail\n"));
        assert_eq!(merged.matches(WEB_START).count(), 1);
    }
}
