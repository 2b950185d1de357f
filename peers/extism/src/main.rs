//! `boundary-extism`: the Extism peer's own process.
//!
//! `boundary-extism bench [--quick] --out FILE.json` times native Rust and the Extism plugin
//! (JSON and bytes) on the kernel's workloads and writes the figures for
//! `boundary bench --peer-results FILE.json`. Errors are one line; exit 2 for bad flags or an
//! unwritable file, 1 when the plugin fails or disagrees with native Rust.

use std::path::PathBuf;
use std::process::ExitCode;

use boundary_peer_extism::bench::{self, Plan};
use boundary_peer_extism::one_line;
use clap::{Parser, Subcommand};

/// Extism as a peer of the registered paths, in its own process (its own wasmtime).
#[derive(Debug, Parser)]
#[command(name = "boundary-extism", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Time native Rust, extism/json and extism/bytes on W0–W4 and write the figures as JSON.
    #[command(after_help = "Example: boundary-extism bench --quick --out target/bench/extism.json")]
    Bench {
        /// Fewer, shorter samples (as `boundary bench --quick`).
        #[arg(long)]
        quick: bool,
        /// Where to write the figures, for `boundary bench --peer-results`.
        #[arg(long, value_name = "FILE.json")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let Command::Bench { quick, out } = Cli::parse().command;
    let plan = Plan::of(quick);
    let total = bench::total_samples(plan);
    let mut done = 0u64;
    let results = bench::run(plan, quick, |cell| {
        done += 1;
        eprint!("\r{done}/{total} samples  {cell:<24}");
    });
    eprint!("\r{:<60}\r", "");
    let results = match results {
        Ok(results) => results,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            return ExitCode::FAILURE;
        }
    };
    let json = match serde_json::to_string_pretty(&results) {
        Ok(json) => json,
        Err(error) => {
            eprintln!("error: cannot encode the figures: {error}");
            return ExitCode::FAILURE;
        }
    };
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(Err(error)) = dir.map(std::fs::create_dir_all) {
        eprintln!("error: cannot write {}: {error}", out.display());
        return ExitCode::from(2);
    }
    if let Err(error) = boundary_schema::write_atomically(&out, &json) {
        eprintln!("error: {}", one_line(&error));
        return ExitCode::from(2);
    }
    println!("wrote {} ({})", out.display(), results.runtime);
    ExitCode::SUCCESS
}
