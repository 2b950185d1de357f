//! Measuring: calibrate each row, take the samples of one workload's rows round-robin, and
//! keep the medians ([`boundary_schema::stats::Timings`], the statistics every command shares).

use std::time::Duration;

use boundary_host::Traffic;
use boundary_schema::Plan;
use boundary_schema::peer::PeerResults;
use boundary_schema::stats::{Timings, ratio};
use boundary_schema::workloads::{Workload, workloads};

use crate::instantiation::{InstHarness, InstKind, inst_row_count};
use crate::rows::{Harness, NATIVE, RowInfo, row_count};
use crate::{BenchError, Guests};

/// One measured cell: a row on a workload.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The workload id.
    pub workload: &'static str,
    /// The row's index in [`Results::rows`].
    pub row: usize,
    /// Median time per transform.
    pub median: Duration,
    /// What one transform moved across the boundary (the second call, once any buffers exist).
    pub traffic: Traffic,
    /// Median time per transform on the row's twin that counts guest calls with a call hook:
    /// measured on [`COUNTED_WORKLOAD`] for rows that call a guest.
    pub counted: Option<Duration>,
}

/// The workload on which the cost of counting guest calls is measured: the smallest, where a
/// call's fixed costs show most.
pub const COUNTED_WORKLOAD: &str = "W0";

/// One instantiation figure.
#[derive(Debug, Clone)]
pub struct InstCell {
    /// The registered path.
    pub path: &'static str,
    /// How the instance (or compiled guest) was obtained.
    pub kind: InstKind,
    /// Median time per instance.
    pub median: Duration,
}

/// The linear memory of the instance a row reuses, before and after one workload's samples.
#[derive(Debug, Clone)]
pub struct MemoryGrowth {
    /// The workload id.
    pub workload: &'static str,
    /// The row's index in [`Results::rows`].
    pub row: usize,
    /// Bytes before the samples.
    pub before: usize,
    /// Bytes after them.
    pub after: usize,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Results {
    /// The workloads, in order.
    pub workloads: Vec<Workload>,
    /// The rows, in order.
    pub rows: Vec<RowInfo>,
    /// Every workload × row.
    pub cells: Vec<Cell>,
    /// Instantiation, every path.
    pub inst: Vec<InstCell>,
    /// Memory of the instances the harness can see (each path's default call).
    pub memory: Vec<MemoryGrowth>,
    /// The plan the run followed.
    pub plan: Plan,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// The `--guest` files measured instead of embedded guests, one line each.
    pub guests: Vec<String>,
    /// Figures of peers measured in their own process (`--peer-results`).
    pub peers: Vec<PeerResults>,
}

impl Results {
    /// The index of the row called `name`.
    pub fn row(&self, name: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.name == name)
    }

    /// A cell.
    pub fn cell(&self, workload: &str, row: usize) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.workload == workload && c.row == row)
    }

    /// The median of the row called `row` on a workload.
    pub fn median(&self, workload: &str, row: &str) -> Option<Duration> {
        self.cell(workload, self.row(row)?).map(|c| c.median)
    }

    /// The row called `row`'s time over the row called `over`'s, on a workload.
    pub fn ratio_between(&self, workload: &str, row: &str, over: &str) -> Option<f64> {
        Some(ratio(
            self.median(workload, row)?,
            self.median(workload, over)?,
        ))
    }

    /// A row's time over native's on a workload.
    pub fn ratio(&self, workload: &str, row: usize) -> Option<f64> {
        let native = self.median(workload, NATIVE)?;
        Some(ratio(self.cell(workload, row)?.median, native))
    }

    /// The median of an instantiation figure.
    pub fn inst_median(&self, path: &str, kind: InstKind) -> Option<Duration> {
        self.inst
            .iter()
            .find(|c| c.path == path && c.kind == kind)
            .map(|c| c.median)
    }

    /// The registered paths the run measured, in order.
    pub fn paths(&self) -> Vec<&'static str> {
        let mut paths: Vec<&'static str> = Vec::new();
        for path in self.rows.iter().filter_map(|r| r.path) {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }
}

/// The per-call time of a sample of `iters` calls that took `total`.
fn per_call(total: Duration, iters: u64) -> Duration {
    total / u32::try_from(iters).unwrap_or(u32::MAX)
}

/// Runs the matrix: for each workload, every row is checked against native Rust and
/// calibrated, then the rows' samples are taken round-robin. Then instantiation, each figure in
/// turn. `tick` is called after each sample with a description of the cell; [`total_samples`]
/// says how many there will be.
///
/// # Errors
///
/// Any [`BenchError`] from loading, calling or checking.
pub fn run(
    plan: Plan,
    quick: bool,
    guests: &Guests,
    mut tick: impl FnMut(&str),
) -> Result<Results, BenchError> {
    let workloads = workloads();
    let mut harness = Harness::new(guests)?;
    let rows = harness.rows();
    let mut cells = Vec::new();
    let mut memory = Vec::new();
    for workload in &workloads {
        let mut per_row = Vec::new();
        for (row, info) in rows.iter().enumerate() {
            harness.check(row, workload)?;
            // The second call shows the steady state (the tuned buffers exist by then).
            let traffic = harness.check(row, workload)?;
            let once = harness.time(row, workload, 1)?;
            let iters = plan.iterations(once, 1_000_000);
            let counted =
                (workload.id == COUNTED_WORKLOAD && info.path.is_some()).then(Timings::new);
            per_row.push((row, traffic, iters, Timings::new(), counted));
        }
        let watched: Vec<(usize, usize)> = (0..rows.len())
            .filter_map(|row| Some((row, harness.memory_bytes(row)?)))
            .collect();
        for _ in 0..plan.samples {
            for (row, _, iters, timings, counted) in &mut per_row {
                let total = harness.time(*row, workload, *iters)?;
                timings.record(per_call(total, *iters));
                tick(&format!("{} {}", workload.id, rows[*row].name));
                if let Some(counted) = counted {
                    let total = harness.time_counted(*row, workload, *iters)?;
                    counted.record(per_call(total, *iters));
                    tick(&format!("{} {} (counted)", workload.id, rows[*row].name));
                }
            }
        }
        for (row, before) in watched {
            memory.push(MemoryGrowth {
                workload: workload.id,
                row,
                before,
                after: harness.memory_bytes(row).unwrap_or(before),
            });
        }
        cells.extend(
            per_row
                .into_iter()
                .map(|(row, traffic, _, timings, counted)| Cell {
                    workload: workload.id,
                    row,
                    median: timings.median(),
                    traffic,
                    counted: counted.map(|c| c.median()),
                }),
        );
    }
    drop(harness);

    let mut inst_harness = InstHarness::new(guests)?;
    let mut inst = Vec::new();
    for (index, (path, kind)) in inst_harness.rows().into_iter().enumerate() {
        let once = inst_harness.time(index, 1)?;
        let iters = plan.iterations(once, 100_000);
        let mut timings = Timings::new();
        for _ in 0..plan.inst_samples {
            let total = inst_harness.time(index, iters)?;
            timings.record(per_call(total, iters));
            tick(&format!("{path} {}", kind.label()));
        }
        inst.push(InstCell {
            path,
            kind,
            median: timings.median(),
        });
    }
    Ok(Results {
        workloads,
        rows,
        cells,
        inst,
        memory,
        plan,
        quick,
        guests: guests.describe(),
        peers: Vec::new(),
    })
}

/// The number of times [`run`] calls its `tick`.
pub fn total_samples(plan: Plan) -> u64 {
    // Every row on every workload, the guest rows once more with calls counted on
    // COUNTED_WORKLOAD, and instantiation.
    ((workloads().len() * row_count() + row_count() - 1) as u64) * u64::from(plan.samples)
        + (inst_row_count() as u64) * u64::from(plan.inst_samples)
}
