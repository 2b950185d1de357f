//! One whole `boundary bench` run: read and check every input file first (`--guest`,
//! `--peer-results`, `--web-results`), then measure the matrix, instantiation and batch
//! throughput, and write the report and its chart.

use std::path::{Path, PathBuf};

use boundary_schema::Plan;
use boundary_schema::peer::PeerResults;
use boundary_schema::workloads::workloads;

use crate::batch::{self, BatchPlan};
use crate::engine::bench_limits;
use crate::goals::goals;
use crate::measure::{run, total_samples};
use crate::peers::read_peer_results;
use crate::report::write_report_with;
use crate::web::{WebResults, read_web_results};
use crate::{BenchError, Guests};

/// Where `--web-only` reads the browser figures from unless `--web-results` says otherwise.
pub const DEFAULT_WEB_RESULTS: &str = "web/test-results/comparison.json";

/// What to run: the flags of `boundary bench`, less `--web-only`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Fewer, shorter samples ([`Plan::QUICK`]).
    pub quick: bool,
    /// Where the report goes; the chart goes next to it as `chart.svg`.
    pub out: PathBuf,
    /// Browser figures to put into the report.
    pub web_results: Option<PathBuf>,
    /// Peers' figures to report beside this run's rows.
    pub peer_results: Vec<PathBuf>,
    /// Guest files that replace the embedded default of their kind's path.
    pub guests: Vec<PathBuf>,
}

/// A run whose inputs have been read and checked, ready to measure.
#[derive(Debug)]
pub struct Suite {
    plan: Plan,
    batch: BatchPlan,
    quick: bool,
    out: PathBuf,
    guests: Guests,
    web: Option<WebResults>,
    peers: Vec<PeerResults>,
}

/// What a run wrote, and the goals' lines for the terminal.
#[derive(Debug, Clone)]
pub struct Written {
    /// The report.
    pub report: PathBuf,
    /// The chart beside it.
    pub chart: PathBuf,
    /// One line per goal: what, the bound, the figure, the verdict.
    pub goal_lines: Vec<String>,
}

impl Suite {
    /// Reads every input file the options name, so that a bad one stops the run before
    /// anything is measured.
    ///
    /// # Errors
    ///
    /// The [`BenchError`] of the first file that cannot be read or does not fit (all input
    /// errors, [`BenchError::is_input_error`]).
    pub fn prepare(options: &Options) -> Result<Self, BenchError> {
        let web = options
            .web_results
            .as_deref()
            .map(read_web_results)
            .transpose()?;
        let peers = options
            .peer_results
            .iter()
            .map(|path| read_peer_results(path, &workloads()))
            .collect::<Result<Vec<_>, _>>()?;
        let guests = Guests::from_files(&options.guests, bench_limits(Default::default()))?;
        Ok(Self {
            plan: Plan::of(options.quick),
            batch: BatchPlan::of(options.quick),
            quick: options.quick,
            out: options.out.clone(),
            guests,
            web,
            peers,
        })
    }

    /// How many times [`Suite::run`] calls its `tick`: the length of a progress bar.
    pub fn total_samples(&self) -> u64 {
        total_samples(self.plan) + batch::total_samples(self.batch)
    }

    /// Measures everything and writes the report and its chart. `tick` is called after each
    /// sample with a description of the cell.
    ///
    /// # Errors
    ///
    /// Any [`BenchError`] from loading, calling, checking or writing.
    pub fn run(self, mut tick: impl FnMut(&str)) -> Result<Written, BenchError> {
        let mut results = run(self.plan, self.quick, &self.guests, &mut tick)?;
        let batch = batch::measure(self.batch, &self.guests, &mut tick)?;
        results.peers = self.peers;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let section = batch::section(&batch, cores);
        let chart = write_report_with(&results, &self.out, self.web.as_ref(), &section)?;
        let mut goal_lines: Vec<String> = goals(&results).iter().map(|g| g.line()).collect();
        goal_lines.extend(batch::goal_lines(&batch));
        Ok(Written {
            report: self.out,
            chart,
            goal_lines,
        })
    }
}

/// `--web-only`: the browser figures `web` (default [`DEFAULT_WEB_RESULTS`]) merged into the
/// existing report `out`, nothing measured. Returns the file the figures came from.
///
/// # Errors
///
/// [`BenchError::Read`], [`BenchError::WebResults`] or [`BenchError::Write`].
pub fn merge_web_only(out: &Path, web: Option<&Path>) -> Result<PathBuf, BenchError> {
    let web = web.unwrap_or(Path::new(DEFAULT_WEB_RESULTS));
    crate::web::merge_web_results(out, web)?;
    Ok(web.to_owned())
}
