//! `boundary-extism bench`: native Rust and the plugin in both encodings, on the kernel's
//! workloads (W0–W4), in this one process.
//!
//! The method is the main bench's (`boundary bench`): every row's output is checked against
//! native Rust's before timing; each row is calibrated so that a sample repeats the call for at
//! least the plan's target (`boundary_schema::Plan`, the main bench's plans); the samples of one
//! workload's rows are taken round-robin, so drift in the machine's speed hits every row alike;
//! each cell is the median of its samples (`boundary_schema::stats::Timings`, an HDR histogram
//! with three significant figures); outputs are dropped inside the timed loop.

use std::hint::black_box;
use std::time::{Duration, Instant};

use boundary_kernel::SomeDataStruct;
pub use boundary_schema::Plan;
use boundary_schema::peer::{PeerCell, PeerResults, PeerRow, PeerWorkload};
use boundary_schema::stats::Timings;
use boundary_schema::workloads::{Workload, workloads};

use crate::{EXTISM_VERSION, EXTISM_WASMTIME, Encoding, Peer, PeerError};

/// The peer's name and the prefix of its rows.
pub const PEER: &str = "extism";

/// What stops the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The plugin failed to load or a call failed.
    #[error("{row} on {workload}")]
    Peer {
        /// The row.
        row: String,
        /// The workload, or `setup`.
        workload: &'static str,
        /// Why.
        #[source]
        source: PeerError,
    },
    /// A row's output differs from native Rust's: the benchmark would time a bug.
    #[error("{row} on {workload}: the output differs from native Rust's")]
    Mismatch {
        /// The row.
        row: String,
        /// The workload.
        workload: &'static str,
    },
}

/// One way to run `transform`.
enum Row {
    Native,
    Plugin(Encoding),
}

impl Row {
    fn name(&self) -> String {
        match self {
            Row::Native => PeerResults::NATIVE.to_owned(),
            Row::Plugin(encoding) => format!("{PEER}/{}", encoding.name()),
        }
    }

    fn about(&self) -> String {
        match self {
            Row::Native => "`boundary_kernel::transform(input.clone())` in the peer's process: \
                            its own floor"
                .to_owned(),
            Row::Plugin(Encoding::Json) => format!(
                "Extism {EXTISM_VERSION} (wasmtime {EXTISM_WASMTIME}), one reused `Plugin`: \
                 `call::<Json<_>, Json<_>>(\"transform\")`; the extism-pdk plugin takes and \
                 returns `Json<SomeDataStruct>`, as Extism users write plugins"
            ),
            Row::Plugin(Encoding::Bytes) => format!(
                "Extism {EXTISM_VERSION} (wasmtime {EXTISM_WASMTIME}), one reused `Plugin`: \
                 `call::<&[u8], &[u8]>(\"transform_bytes\")` with postcard in and out (the raw \
                 path's encoding): Extism at its best, no JSON"
            ),
        }
    }
}

/// Calls `row` once on `input`.
fn call(peer: &mut Peer, row: &Row, input: &SomeDataStruct) -> Result<SomeDataStruct, PeerError> {
    match row {
        Row::Native => Ok(boundary_kernel::transform(input.clone())),
        Row::Plugin(encoding) => peer.transform(*encoding, input),
    }
}

/// Calls `row` `iters` times and returns the total time.
fn time(
    peer: &mut Peer,
    row: &Row,
    input: &SomeDataStruct,
    iters: u64,
) -> Result<Duration, PeerError> {
    let start = Instant::now();
    match row {
        Row::Native => {
            for _ in 0..iters {
                black_box(boundary_kernel::transform(black_box(input).clone()));
            }
        }
        Row::Plugin(encoding) => {
            for _ in 0..iters {
                black_box(peer.transform(*encoding, black_box(input))?);
            }
        }
    }
    Ok(start.elapsed())
}

/// The number of samples [`run`] takes, for a progress count.
pub fn total_samples(plan: Plan) -> u64 {
    workloads().len() as u64 * 3 * u64::from(plan.samples)
}

/// Runs the benchmark: for each workload, every row is checked against native Rust and
/// calibrated, then the rows' samples are taken round-robin. `tick` is called after each sample.
///
/// # Errors
///
/// [`BenchError::Peer`] if the plugin does not load or a call fails, [`BenchError::Mismatch`]
/// if an output differs from native Rust's.
pub fn run(plan: Plan, quick: bool, mut tick: impl FnMut(&str)) -> Result<PeerResults, BenchError> {
    let rows = [
        Row::Native,
        Row::Plugin(Encoding::Json),
        Row::Plugin(Encoding::Bytes),
    ];
    let mut peer = Peer::new().map_err(|source| BenchError::Peer {
        row: PEER.to_owned(),
        workload: "setup",
        source,
    })?;
    let workloads = workloads();
    let mut cells = Vec::new();
    for workload in &workloads {
        let failed = |row: &Row| {
            let row = row.name();
            move |source| BenchError::Peer {
                row,
                workload: workload.id,
                source,
            }
        };
        let expected = boundary_kernel::transform(workload.input.clone());
        let mut per_row = Vec::new();
        for row in &rows {
            // Twice, as the main bench does: the second call shows the steady state.
            for _ in 0..2 {
                if call(&mut peer, row, &workload.input).map_err(failed(row))? != expected {
                    return Err(BenchError::Mismatch {
                        row: row.name(),
                        workload: workload.id,
                    });
                }
            }
            let once = time(&mut peer, row, &workload.input, 1).map_err(failed(row))?;
            per_row.push((row, plan.iterations(once, 1_000_000), Timings::new()));
        }
        for _ in 0..plan.samples {
            for (row, iters, timings) in &mut per_row {
                let total = time(&mut peer, row, &workload.input, *iters).map_err(failed(row))?;
                timings.record(total / u32::try_from(*iters).unwrap_or(u32::MAX));
                tick(&format!("{} {}", workload.id, row.name()));
            }
        }
        cells.extend(per_row.into_iter().map(|(row, _, timings)| PeerCell {
            workload: workload.id.to_owned(),
            row: row.name(),
            median_ns: u64::try_from(timings.median().as_nanos()).unwrap_or(u64::MAX),
        }));
    }
    Ok(PeerResults {
        peer: PEER.to_owned(),
        runtime: format!("Extism {EXTISM_VERSION} (wasmtime {EXTISM_WASMTIME})"),
        quick,
        samples: plan.samples,
        sample_target_ns: plan.sample_target_ns(),
        debug_build: cfg!(debug_assertions),
        workloads: workloads
            .iter()
            .map(|w: &Workload| PeerWorkload {
                id: w.id.to_owned(),
                payload_bytes: w.payload_bytes(),
            })
            .collect(),
        rows: rows
            .iter()
            .map(|row| PeerRow {
                name: row.name(),
                about: row.about(),
            })
            .collect(),
        cells,
    })
}
