//! `boundary`: run, inspect, measure and serve every way across the wasm boundary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use boundary_cli::commands::{bench, button_text, demo, inspect, run, serve};

/// Pass one record across the WebAssembly boundary on every path and compare them.
///
/// Start with `boundary demo`: it runs each path on one example record, shows what crossed the
/// boundary (guest calls, bytes in and out), and times each path against native Rust. Then
/// `boundary run` transforms your own JSON, `boundary inspect` shows what a guest exports, and
/// `boundary serve` runs the to-do web app.
///
/// The paths: `component` (the canonical ABI: a wit-bindgen guest called through wasmtime's
/// bindgen!) and `raw` (a hand-written ptr/len ABI over a core module, postcard-encoded). Their
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
    Demo(demo::Args),
    /// Transform a record read as JSON on every path (or one) and print the result as JSON.
    Run(run::Args),
    /// Print the button label for a to-do status (PENDING -> edit, DONE -> delete).
    #[command(name = "button-text")]
    ButtonText(button_text::Args),
    /// Show what a wasm file is: kind, size, imports, exports, and a component's WIT world.
    Inspect(inspect::Args),
    /// Serve the to-do web app, its JSON API, and server-side transforms.
    Serve(serve::Args),
    /// Benchmark every workload on every path against native Rust; write a report and a chart.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Demo(args) => demo::execute(args),
        Command::Run(args) => run::execute(args),
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
