//! Batch throughput: the batch engine `boundary batch` runs ([`run_pipeline`]) on W1-sized records, at
//! 1 and 2 worker threads, for native Rust and every registered path; the report's "Batch"
//! section and the scaling goal (2 workers at least 1.7× 1 worker).
//!
//! Each sample streams the same NDJSON line `records` times from memory through the pipeline
//! (read, parse, transform, print, reorder) into a sink, with fresh instances made before the
//! clock starts. The samples of every row and worker count are taken round-robin, as the
//! matrix's are, and the median is kept.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use boundary_guests::paths;
use boundary_host::batch::{GuestWorker, NativeWorker, Options, Transform, run_pipeline};
use boundary_host::error::one_line;
use boundary_host::{Allocator, SomeDataStruct};
use boundary_schema::stats::Timings;
use boundary_schema::workloads::workloads;

use crate::engine::engine;
use crate::rows::NATIVE;
use crate::{BenchError, Guests};

/// The worker counts measured.
pub const WORKER_COUNTS: [usize; 2] = [1, 2];

/// The goal: records per second at 2 workers over 1 worker, at least this.
pub const SCALING_GOAL: f64 = 1.7;

/// The workload whose record every line holds.
pub const WORKLOAD: &str = "W1";

/// How many records and samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPlan {
    /// Records per sample.
    pub records: usize,
    /// Samples per row and worker count.
    pub samples: usize,
}

impl BatchPlan {
    /// The full run.
    pub const FULL: Self = Self {
        records: 2000,
        samples: 7,
    };
    /// `--quick`.
    pub const QUICK: Self = Self {
        records: 300,
        samples: 3,
    };

    /// The plan for a run.
    pub fn of(quick: bool) -> Self {
        if quick { Self::QUICK } else { Self::FULL }
    }
}

/// One figure: a row at a worker count.
#[derive(Debug, Clone)]
pub struct BatchCell {
    /// `native` or a registered path's name.
    pub row: &'static str,
    /// Worker threads.
    pub workers: usize,
    /// Median records per second.
    pub records_per_sec: f64,
}

/// The batch figures of one run.
#[derive(Debug, Clone)]
pub struct BatchResults {
    /// The plan followed.
    pub plan: BatchPlan,
    /// The workload's label.
    pub label: &'static str,
    /// Bytes of one input line, newline included.
    pub line_bytes: usize,
    /// Every row at every worker count.
    pub cells: Vec<BatchCell>,
}

impl BatchResults {
    /// The rows, in order: native, then every registered path.
    pub fn rows(&self) -> Vec<&'static str> {
        let mut rows: Vec<&'static str> = Vec::new();
        for cell in &self.cells {
            if !rows.contains(&cell.row) {
                rows.push(cell.row);
            }
        }
        rows
    }

    /// Records per second of a row at a worker count.
    pub fn rate(&self, row: &str, workers: usize) -> Option<f64> {
        self.cells
            .iter()
            .find(|c| c.row == row && c.workers == workers)
            .map(|c| c.records_per_sec)
    }

    /// A row's records per second at 2 workers over 1 worker.
    pub fn scaling(&self, row: &str) -> Option<f64> {
        Some(self.rate(row, 2)? / self.rate(row, 1)?)
    }

    /// The goal's verdict for a row.
    pub fn verdict(&self, row: &str) -> &'static str {
        match self.scaling(row) {
            Some(s) if s >= SCALING_GOAL => "met",
            Some(_) => "missed",
            None => "not measured",
        }
    }
}

/// How many samples [`measure`] takes, for the progress bar.
pub fn total_samples(plan: BatchPlan) -> u64 {
    ((1 + paths().len()) * WORKER_COUNTS.len() * plan.samples) as u64
}

/// One row's workers: native Rust's transform, or a loaded guest.
enum Row {
    Native,
    Guest(boundary_host::AnyGuest),
}

impl Row {
    /// Runs `input` through the pipeline with `workers` fresh workers into `out`, and returns
    /// how long the pipeline took (instantiation excluded).
    fn run(
        &self,
        name: &'static str,
        input: Box<dyn Read + Send>,
        workers: usize,
        out: &mut dyn io::Write,
    ) -> Result<Duration, BenchError> {
        match self {
            Self::Native => time(name, input, vec![NativeWorker; workers], out),
            Self::Guest(guest) => {
                let made = (0..workers)
                    .map(|_| GuestWorker::new(guest))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| batch_error(name, &e))?;
                time(name, input, made, out)
            }
        }
    }
}

fn time<T: Transform>(
    name: &'static str,
    input: Box<dyn Read + Send>,
    workers: Vec<T>,
    out: &mut dyn io::Write,
) -> Result<Duration, BenchError> {
    let options = Options::for_workers(workers.len(), u32::MAX, false);
    let start = Instant::now();
    run_pipeline(input, out, workers, options, ()).map_err(|e| batch_error(name, &e))?;
    Ok(start.elapsed())
}

fn batch_error(row: &str, error: &(dyn std::error::Error + 'static)) -> BenchError {
    BenchError::Batch {
        row: row.to_owned(),
        message: one_line(error),
    }
}

/// Measures every row at every worker count. `tick` is called after each sample.
///
/// # Errors
///
/// [`BenchError::Load`] when a guest does not load, [`BenchError::Batch`] when the pipeline
/// fails, and [`BenchError::Mismatch`] when a row's output differs from native Rust's.
pub fn measure(
    plan: BatchPlan,
    guests: &Guests,
    mut tick: impl FnMut(&str),
) -> Result<BatchResults, BenchError> {
    let workload = workloads()
        .into_iter()
        .find(|w| w.id == WORKLOAD)
        .ok_or_else(|| BenchError::Guests(format!("no workload {WORKLOAD}")))?;
    let line = json_line(&workload.input);
    let want = json_line(&boundary_host::native_transform(workload.input.clone()));
    let runtime = engine(Allocator::OnDemand, false)?;
    let mut rows = vec![(NATIVE, Row::Native)];
    for path in paths() {
        let guest = path
            .load(&runtime, guests.bytes(&path.registration))
            .map_err(|source| BenchError::Load {
                what: format!("the {} path's guest", path.name()),
                source,
            })?;
        rows.push((path.name(), Row::Guest(guest)));
    }
    // Every row, at the largest worker count, must print what native Rust prints, in order.
    let check_records = 8;
    let workers_max = WORKER_COUNTS.iter().copied().max().unwrap_or(1);
    for (name, row) in &rows {
        let mut out = Vec::new();
        row.run(name, repeat(&line, check_records), workers_max, &mut out)?;
        if out != want.repeat(check_records) {
            return Err(BenchError::Mismatch {
                row: format!("batch, {name}"),
                workload: WORKLOAD,
            });
        }
    }
    // Each sample's time for the whole stream; the median time gives the median rate.
    let mut samples: Vec<Timings> = vec![Timings::new(); rows.len() * WORKER_COUNTS.len()];
    for _ in 0..plan.samples {
        for (r, (name, row)) in rows.iter().enumerate() {
            for (w, &workers) in WORKER_COUNTS.iter().enumerate() {
                let took = row.run(name, repeat(&line, plan.records), workers, &mut io::sink())?;
                samples[r * WORKER_COUNTS.len() + w].record(took);
                tick(&format!("batch {name} ×{workers}"));
            }
        }
    }
    let mut cells = Vec::new();
    for (r, (name, _)) in rows.iter().enumerate() {
        for (w, &workers) in WORKER_COUNTS.iter().enumerate() {
            let median = samples[r * WORKER_COUNTS.len() + w].median();
            cells.push(BatchCell {
                row: name,
                workers,
                records_per_sec: plan.records as f64 / median.as_secs_f64().max(1e-9),
            });
        }
    }
    Ok(BatchResults {
        plan,
        label: workload.label,
        line_bytes: line.len(),
        cells,
    })
}

/// A record's JSON and a newline, as `batch` reads and prints it.
fn json_line(record: &SomeDataStruct) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).unwrap_or_default();
    line.push(b'\n');
    line
}

/// An input of `line` repeated `count` times, read from memory.
fn repeat(line: &[u8], count: usize) -> Box<dyn Read + Send> {
    Box::new(Repeat {
        line: Arc::from(line),
        left: count,
        at: 0,
    })
}

struct Repeat {
    line: Arc<[u8]>,
    left: usize,
    at: usize,
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || self.line.is_empty() {
            return Ok(0);
        }
        let rest = &self.line[self.at..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        if self.at == self.line.len() {
            self.at = 0;
            self.left -= 1;
        }
        Ok(n)
    }
}

/// The report's "Batch" section.
pub fn section(results: &BatchResults, cores: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let plan = results.plan;
    let _ = writeln!(
        out,
        "## Batch (`boundary batch`)\n\n\
         Records per second through `boundary batch`'s pipeline (read lines, parse the JSON, \
         transform, print the JSON, write in input order) at 1 and 2 worker threads, each with \
         its own instance. Every record is {WORKLOAD}-sized ({}; {} bytes of JSON per line); a \
         sample is {} records streamed from memory into a sink, and each figure is the median \
         of {} samples, taken round-robin with the other rows. `native` is the same pipeline \
         calling native Rust's transform. Goal: 2 workers at least {SCALING_GOAL}× 1 worker \
         ({cores} logical CPUs here).\n",
        results.label, results.line_bytes, plan.records, plan.samples
    );
    out.push_str(
        "| row | 1 worker | 2 workers | 2 workers / 1 | goal ≥ 1.7× | 1 worker, × native |\n\
         |---|---:|---:|---:|---|---:|\n",
    );
    let native = results.rate(NATIVE, 1);
    for row in results.rows() {
        let rate = |workers| {
            results
                .rate(row, workers)
                .map_or("–".to_owned(), |r| format!("{r:.0} records/s"))
        };
        let _ = writeln!(
            out,
            "| {row} | {} | {} | {} | {} | {} |",
            rate(1),
            rate(2),
            results
                .scaling(row)
                .map_or("–".to_owned(), |s| format!("{s:.2}×")),
            results.verdict(row),
            match (results.rate(row, 1), native) {
                (Some(r), Some(n)) => format!("{:.2}×", n / r.max(1e-9)),
                _ => "–".to_owned(),
            }
        );
    }
    out.push_str(
        "\n`× native` is how many times longer a record takes than on native Rust, at 1 worker.\n\n",
    );
    out
}

/// One line per row for the terminal: the scaling goal and how the run did.
pub fn goal_lines(results: &BatchResults) -> Vec<String> {
    results
        .rows()
        .into_iter()
        .map(|row| {
            format!(
                "  {:<56} ≥ {SCALING_GOAL:>4.1}×  {:>8}  {}",
                format!("batch {WORKLOAD}, {row}: 2 workers / 1 worker"),
                results
                    .scaling(row)
                    .map_or("–".to_owned(), |s| format!("{s:.2}×")),
                results.verdict(row)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_reads_the_line_count_times() {
        let mut text = String::new();
        repeat(b"ab\n", 3).read_to_string(&mut text).unwrap();
        assert_eq!(text, "ab\nab\nab\n");
    }

    #[test]
    fn a_quick_measure_checks_and_times_every_row_at_every_worker_count() {
        let plan = BatchPlan {
            records: 10,
            samples: 1,
        };
        let mut ticks = 0;
        let results = measure(plan, &Guests::embedded(), |_| ticks += 1).unwrap();
        assert_eq!(ticks, total_samples(plan));
        let mut rows = vec![NATIVE];
        rows.extend(paths().iter().map(|p| p.name()));
        assert_eq!(results.rows(), rows);
        for row in rows {
            for workers in WORKER_COUNTS {
                assert!(results.rate(row, workers).is_some_and(|r| r > 0.0));
            }
            assert!(results.scaling(row).is_some());
        }
        let section = section(&results, 2);
        assert!(section.starts_with("## Batch"));
        assert!(section.contains("| component |"), "{section}");
        assert_eq!(goal_lines(&results).len(), results.rows().len());
    }
}
