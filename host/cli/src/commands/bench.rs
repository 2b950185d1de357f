//! `boundary bench`: every workload on every row (native Rust, then each registered path's
//! `Instance::transform` and each of its `Load::variants()`), and instantiation for every
//! registered path, in one process on the same inputs. It writes a Markdown report and an SVG
//! chart; the criterion benches (`host/cli/benches/boundary.rs`) time the very same closures.
//!
//! Times on a shared machine are noise; ratios measured in one run are not. The samples of all
//! the rows of a workload are therefore interleaved round-robin, so drift in the machine's speed
//! hits every row alike, and every figure is reported as a ratio to native Rust as well.
//!
//! Nothing here names a path: rows come from the registry (`boundary_guests::for_each_path`), so
//! a newly registered path is measured, charted and checked against native Rust with no edit
//! here. Only the goals name rows, because they are the goals.

mod batch;
mod chart;
mod matrix;
mod measure;
mod peers;
mod report;

use std::path::{Path, PathBuf};

use boundary_host::{CallError, LoadError};

use crate::failure::Failure;

pub use chart::{chart_rows, svg};
pub use matrix::{
    Guests, Harness, InstHarness, InstKind, RowInfo, RowKind, Workload, bench_limits, componentize,
    workloads,
};
pub use measure::{Cell, InstCell, MemoryGrowth, Plan, Results, run, total_samples};
pub use peers::{PeerResults, read_peer_results};
pub use report::{
    Goal, Machine, WebCase, WebResults, WebShipped, goals, markdown, merge_web_results,
    read_web_results, replace_web_section, web_section, write_atomically, write_report,
    write_report_with,
};

/// Where `--web-only` reads the browser figures from unless `--web-results` says otherwise.
const DEFAULT_WEB_RESULTS: &str = "web/test-results/comparison.json";

/// Flags of `boundary bench`.
///
/// Every row runs under fixed limits with room for the largest workloads (see
/// [`bench_limits`]), not under the limit flags of the other commands.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example: boundary bench --quick --out /tmp/report.md")]
pub struct Args {
    /// Fewer, shorter samples: a check that everything runs, not figures to keep.
    #[arg(long)]
    pub quick: bool,
    /// Where to write the report; the chart goes next to it as chart.svg.
    #[arg(long, value_name = "FILE.md", default_value = "bench/report.md")]
    pub out: PathBuf,
    /// Browser figures from the Playwright run to put into the report.
    #[arg(long, value_name = "FILE.json")]
    pub web_results: Option<PathBuf>,
    /// Figures a peer measured in its own process with its own native baseline
    /// (`boundary-extism bench --out FILE.json`), reported beside this run's rows. May be given
    /// more than once.
    #[arg(long, value_name = "FILE.json")]
    pub peer_results: Vec<PathBuf>,
    /// Only merge --web-results (default web/test-results/comparison.json) into the existing
    /// report; measure nothing.
    #[arg(long)]
    pub web_only: bool,
    /// Measure this guest instead of the embedded default of the first registered path that runs
    /// its kind (a component, or a core module). A core module built by wit-bindgen (it carries
    /// `component-type` metadata) is componentized first. May be given once per kind.
    #[arg(long, value_name = "FILE.wasm")]
    pub guest: Vec<PathBuf>,
}

/// What can stop a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A guest did not load.
    #[error("{what}")]
    Load {
        /// The path, or the guest file.
        what: String,
        /// Why.
        #[source]
        source: LoadError,
    },
    /// A guest file could not be read (the error names the file).
    #[error(transparent)]
    GuestFile(LoadError),
    /// A call (or an instantiation) failed.
    #[error("{row} on {workload}")]
    Call {
        /// The row.
        row: String,
        /// The workload, or what was being set up.
        workload: String,
        /// What went wrong.
        #[source]
        source: CallError,
    },
    /// A row's output differs from native Rust's: the benchmark would time a bug.
    #[error("{row} on {workload}: the output differs from native Rust's")]
    Mismatch {
        /// The row.
        row: String,
        /// The workload.
        workload: &'static str,
    },
    /// Precompiling, deserializing or componentizing a guest failed.
    #[error("{what}")]
    Artifact {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The --guest files do not map onto the registered paths.
    #[error("{0}")]
    Guests(String),
    /// The executor the async rows run on did not start.
    #[error("cannot start the async runtime")]
    Executor(#[source] std::io::Error),
    /// A --peer-results file is not a peer's JSON.
    #[error("{} is not a peer's figures (boundary-extism bench --out)", path.display())]
    PeerResults {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// A peer's figures do not fit this run (other workloads, a missing cell).
    #[error("{0}")]
    Peer(String),
    /// `boundary batch`'s pipeline failed while measuring it.
    #[error("batch, {row}: {message}")]
    Batch {
        /// The row.
        row: String,
        /// The failure, on one line.
        message: String,
    },
    /// Reading a file failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed; nothing was left half-written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The chart could not be drawn.
    #[error("cannot draw the chart")]
    Chart(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The browser figures are not the JSON the e2e test writes.
    #[error("{} is not the browser comparison's JSON", path.display())]
    WebResults {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
}

/// Prefixes a failure with `what`, keeping its exit code.
fn within(failure: Failure, what: String) -> Failure {
    match failure {
        Failure::Input(e) => Failure::Input(e.context(what)),
        Failure::Guest(e) => Failure::Guest(e.context(what)),
    }
}

impl From<BenchError> for Failure {
    /// Bad files and flags are input errors (exit 2); a guest that fails or disagrees with
    /// native Rust, or a benchmark that cannot run, is a guest failure (exit 1). Limit errors
    /// name their flag as everywhere else.
    fn from(error: BenchError) -> Self {
        match error {
            BenchError::Load { what, source } => within(source.into(), what),
            BenchError::GuestFile(source) => source.into(),
            BenchError::Call {
                row,
                workload,
                source,
            } => within(source.into(), format!("{row} on {workload}")),
            error @ (BenchError::Guests(_)
            | BenchError::Artifact { .. }
            | BenchError::Read { .. }
            | BenchError::Write { .. }
            | BenchError::WebResults { .. }
            | BenchError::PeerResults { .. }
            | BenchError::Peer(_)) => Failure::Input(error.into()),
            error @ (BenchError::Mismatch { .. }
            | BenchError::Batch { .. }
            | BenchError::Executor(_)
            | BenchError::Chart(_)) => Failure::Guest(error.into()),
        }
    }
}

/// Runs the command: measures with a progress bar, writes the report and the chart, and prints
/// the goals. With `--web-only`, only merges the browser figures into the existing report.
///
/// # Errors
///
/// A [`Failure`] from a [`BenchError`]: exit 2 for a bad `--guest`, `--out` or
/// `--web-results` file, exit 1 when a guest fails or disagrees with native Rust.
pub fn execute(args: Args) -> Result<(), Failure> {
    Ok(bench(&args)?)
}

fn bench(args: &Args) -> Result<(), BenchError> {
    if args.web_only {
        let web = args
            .web_results
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_WEB_RESULTS));
        merge_web_results(&args.out, web)?;
        println!("merged {} into {}", web.display(), args.out.display());
        return Ok(());
    }
    let web = args
        .web_results
        .as_deref()
        .map(read_web_results)
        .transpose()?;
    let peers = args
        .peer_results
        .iter()
        .map(|path| read_peer_results(path, &workloads()))
        .collect::<Result<Vec<_>, _>>()?;
    let guests = Guests::from_files(&args.guest, bench_limits(Default::default()))?;
    let plan = if args.quick { Plan::QUICK } else { Plan::FULL };
    let batch_plan = batch::BatchPlan::of(args.quick);
    let bar = indicatif::ProgressBar::new(total_samples(plan) + batch::total_samples(batch_plan));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} samples  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let tick = |cell: &str| {
        bar.set_message(cell.to_owned());
        bar.inc(1);
    };
    let results = run(plan, args.quick, &guests, tick)
        .and_then(|results| Ok((results, batch::measure(batch_plan, &guests, tick)?)));
    bar.finish_and_clear();
    let (mut results, batch) = results?;
    results.peers = peers;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let section = batch::section(&batch, cores);
    let chart = write_report_with(&results, &args.out, web.as_ref(), &section)?;
    println!("wrote {} and {}", args.out.display(), chart.display());
    for goal in goals(&results) {
        println!(
            "  {:<56} ≤ {:>4.1}×  {:>8}  {}",
            goal.what,
            goal.target,
            goal.measured.map_or("–".to_owned(), |m| format!("{m:.2}×")),
            goal.verdict()
        );
    }
    for line in batch::goal_lines(&batch) {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
