//! `boundary`: run, inspect, measure and serve every way across the wasm boundary.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use boundary_cli::commands::{batch, bench, button_text, demo, inspect, run, serve};

/// Pass one record across the WebAssembly boundary on every path and compare them.
///
/// Start with `boundary demo`: it runs each path on one example record, shows what crossed the
/// boundary (guest calls, bytes in and out), and times each path against native Rust. Then
/// `boundary run` transforms your own JSON, `boundary inspect` shows what a guest exports, and
/// `boundary serve` runs the to-do web app.
///
/// Every command runs every registered path (listed below) unless `--path` names one; their
/// default guests are embedded in this binary.
///
/// Exit codes: 0 success, 1 a guest failed or the paths disagreed, 2 bad usage or input.
#[derive(Debug, Parser)]
#[command(name = "boundary", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start here: every path on the example record, what crossed the boundary, and timings.
    ///
    /// For each registered path: the output of one `transform` call on the example record, and
    /// what crossed the boundary in it (calls into guest code, bytes copied in and out). Then a
    /// check that every path agrees with native Rust, on `transform` and on `button-text`, and
    /// the median time per call of each path against native Rust.
    ///
    /// Example: boundary demo --calls 10000
    Demo(demo::Args),
    /// Transform a record read as JSON on every path (or one) and print the result as JSON.
    ///
    /// The record is `{"name": "...", "names": ["...", ...]}`, read from INPUT (`-` for standard
    /// input), or from standard input when it is piped or redirected. With neither (a terminal,
    /// or nothing piped in) the seed's example (`name3` / `["name1", "name2"]`) is used. When
    /// several paths run, they must agree.
    ///
    /// Example: echo '{"name":"a","names":[]}' | boundary run
    Run(run::Args),
    /// Transform many records, one JSON record per line (NDJSON), on one path, in parallel.
    ///
    /// Reads INPUT (`-` or none for standard input) line by line and writes each transformed
    /// record as one line, in input order, to standard output or `-o FILE` (all or nothing).
    /// Each worker thread (`--workers`, default the number of cores) owns one guest instance of
    /// the chosen path (default: the first registered path). Memory stays bounded whatever the
    /// input's length: at most 4 records per worker are in flight, and a line longer than
    /// --max-input-bytes is a bad line. Blank lines are skipped. A bad line stops the run with
    /// exit 2 and names its line number; with --keep-going each bad line is reported on stderr,
    /// the good records are all written, and the counts come at the end. A progress bar is shown
    /// when stderr is a terminal.
    ///
    /// Example: boundary batch records.ndjson --workers 2 -o out.ndjson
    Batch(batch::Args),
    /// Print the button label for a to-do status (PENDING -> edit, DONE -> delete).
    ///
    /// Runs on every path (or the ones --path and --guest select, as for `run`); they must agree.
    ///
    /// Example: boundary button-text --guest out/transformer.core.wasm DONE
    #[command(name = "button-text")]
    ButtonText(button_text::Args),
    /// Show what a wasm file is: kind, size, imports, exports, a component's WIT world.
    ///
    /// For a core module, also which exports of the ptr/len ABI it has (required, optional and
    /// tuned): present, missing, or of the wrong type. With no FILE, inspects every registered
    /// path's default guest.
    ///
    /// Example: boundary inspect --write-guests out/ && boundary inspect out/transformer.core.wasm
    Inspect(inspect::Args),
    /// Serve the to-do web app, its JSON API, and server-side transforms.
    Serve(serve::Args),
    /// Benchmark every workload on every path against native Rust; write a report and a chart.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => error.exit(), // --help, --version
        Err(error) => {
            eprintln!("{}", boundary_bench::cli::usage_error_line(&error));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Demo(args) => demo::execute(args),
        Command::Run(args) => run::execute(args),
        Command::Batch(args) => batch::execute(args),
        Command::ButtonText(args) => button_text::execute(args),
        Command::Inspect(args) => inspect::execute(args),
        Command::Serve(args) => serve::execute(args),
        Command::Bench(args) => bench::execute(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.line());
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Parses the command line, with the registered paths listed under the top-level help.
fn parse() -> Result<Cli, clap::Error> {
    let mut paths = String::from("Paths:");
    for path in boundary_guests::paths() {
        let registration = path.registration;
        paths.push_str(&format!(
            "\n  {:10} {}",
            registration.name, registration.about
        ));
    }
    let matches = Cli::command().after_help(paths).try_get_matches()?;
    Cli::from_arg_matches(&matches)
}
