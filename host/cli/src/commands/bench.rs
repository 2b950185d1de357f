//! `boundary bench`: every workload on every row (native Rust, then each registered path's
//! `Instance::transform` and each of its `Load::variants()`), instantiation for every registered
//! path, and batch throughput, in one process on the same inputs; a Markdown report and an SVG
//! chart. The benchmark itself is the `boundary-bench` crate (`bench/`): this is its flags, its
//! progress bar and its exit codes.

use std::path::PathBuf;

use boundary_bench::{BenchError, Options, Suite, merge_web_only};

use crate::failure::Failure;

/// Flags of `boundary bench`.
///
/// Every row runs under fixed limits with room for the largest workloads
/// (`boundary_bench::engine::bench_limits`), not under the limit flags of the other commands.
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

/// Runs the command: measures with a progress bar, writes the report and the chart, and prints
/// the goals. With `--web-only`, only merges the browser figures into the existing report.
///
/// # Errors
///
/// A [`Failure`] from a [`BenchError`]: exit 2 for a bad `--guest`, `--out`, `--peer-results`
/// or `--web-results` file, exit 1 when a guest fails or disagrees with native Rust.
pub fn execute(args: Args) -> Result<(), Failure> {
    if args.web_only {
        let web = merge_web_only(&args.out, args.web_results.as_deref())?;
        println!("merged {} into {}", web.display(), args.out.display());
        return Ok(());
    }
    let suite = Suite::prepare(&Options {
        quick: args.quick,
        out: args.out,
        web_results: args.web_results,
        peer_results: args.peer_results,
        guests: args.guest,
    })?;
    let bar = indicatif::ProgressBar::new(suite.total_samples());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} samples  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let written = suite.run(|cell| {
        bar.set_message(cell.to_owned());
        bar.inc(1);
    });
    bar.finish_and_clear();
    let written = written?;
    println!(
        "wrote {} and {}",
        written.report.display(),
        written.chart.display()
    );
    for line in written.goal_lines {
        println!("{line}");
    }
    Ok(())
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
    /// native Rust, or a benchmark that cannot run, is a guest failure (exit 1)
    /// ([`BenchError::is_input_error`]). Load and call errors go through their own conversions,
    /// so that a limit error names its flag as everywhere else.
    fn from(error: BenchError) -> Self {
        match error {
            BenchError::Load { what, source } => within(source.into(), what),
            BenchError::GuestFile(source) => source.into(),
            BenchError::Call {
                row,
                workload,
                source,
            } => within(source.into(), format!("{row} on {workload}")),
            error if error.is_input_error() => Failure::Input(error.into()),
            error => Failure::Guest(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use boundary_bench::Guests;
    use boundary_bench::engine::bench_limits;
    use boundary_bench::peers::read_peer_results;
    use boundary_bench::workloads;

    use super::*;

    #[test]
    fn bad_guest_files_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let limits = bench_limits(Default::default());
        let component = dir.path().join("a.wasm");
        std::fs::write(&component, boundary_guests::COMPONENT).unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not wasm at all").unwrap();
        let cases: Vec<(Vec<PathBuf>, &str)> = vec![
            (
                vec![component.clone(), component.clone()],
                "both replace the component path",
            ),
            (vec![text], "not a WebAssembly file"),
            (vec![dir.path().to_owned()], "is a directory"),
            (vec![dir.path().join("nope.wasm")], "cannot read"),
        ];
        for (files, expected) in cases {
            let error = Guests::from_files(&files, limits).unwrap_err();
            let failure = Failure::from(error);
            let line = failure.line();
            assert_eq!(failure.exit_code(), 2, "{line}");
            assert!(line.contains(expected), "{line}");
            let last = files.last().unwrap().display().to_string();
            let named = if files.len() == 2 { 2 } else { 1 };
            assert_eq!(
                line.matches(&last).count(),
                named,
                "the file named once: {line}"
            );
        }
    }

    #[test]
    fn a_wrong_output_is_a_guest_failure() {
        let failure = Failure::from(BenchError::Mismatch {
            row: "component/sync".into(),
            workload: "W0",
        });
        assert_eq!(failure.exit_code(), 1);
        assert_eq!(
            failure.line(),
            "component/sync on W0: the output differs from native Rust's"
        );
    }

    #[test]
    fn a_missing_or_invalid_peer_file_is_a_one_line_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let invalid = dir.path().join("peer.json");
        std::fs::write(&invalid, "{\"peer\": 1}").unwrap();
        for (path, expected) in [
            (dir.path().join("absent.json"), "cannot read"),
            (invalid, "is not a peer's figures"),
        ] {
            let failure = Failure::from(read_peer_results(&path, &workloads()).unwrap_err());
            assert_eq!(failure.exit_code(), 2);
            let line = failure.line();
            assert!(line.contains(expected) && !line.contains('\n'), "{line}");
        }
    }
}
