//! The call harness: the rows of the report (native Rust, then every registered path's default
//! call, the same on a pooled instance, and its variants), each ready to be checked against
//! native Rust and timed on a workload. The rows are built by visiting the registry, so each
//! path's calls are statically dispatched inside the timed loops.

use std::hint::black_box;
use std::time::{Duration, Instant};

use boundary_guests::{PathVisitor, TryPathVisitor, for_each_path, try_for_each_path};
use boundary_host::{
    CallError, Called, Instance, Load, Registration, Runtime, SomeDataStruct, Traffic, VariantCall,
};
use boundary_schema::workloads::Workload;

use crate::engine::{current_thread, engines};
use crate::{BenchError, Guests};

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
