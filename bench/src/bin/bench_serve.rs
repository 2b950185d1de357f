//! `bench_serve`: the load test of `boundary serve` (every registered path) and `wasmtime serve`
//! (the wasi:http guest), on loopback, with `wrk` ([`boundary_bench::load`]). Writes
//! `bench/serve.md` and the raw numbers in `bench/serve.json`.
//!
//! `just bench-serve` installs wrk (`just setup-wrk`) and wasmtime (`just setup-wasmtime`),
//! builds the release `boundary` binary and this one, and runs it:
//! `cargo run --release -p boundary-bench --bin bench_serve -- [--duration S] [--connections N]`.
//! A bad flag is one line and exit 2, as is a missing tool (naming the recipe that installs
//! it); a run that fails is one line and exit 1. Every server it starts is a child process,
//! killed when it ends, also on error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use boundary_bench::load::supervisor::resolve;
use boundary_bench::load::{Driver, LoadTestError, Raw, Settings, Wrk, markdown};
use boundary_schema::write_atomically;
use clap::Parser;

/// Load figures for `boundary serve` and `wasmtime serve` (wrk, loopback).
#[derive(Debug, Parser)]
#[command(name = "bench_serve", version)]
struct Args {
    /// Seconds of measured load per target.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    duration: u64,
    /// wrk's open connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    connections: u32,
    /// wrk's threads (at most the connections).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    threads: u32,
    /// Large (~7 MiB) transforms running beside the small ones in each path's mixed load.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=64))]
    large: u32,
    /// The `boundary` binary [default: `boundary` next to this binary].
    #[arg(long)]
    boundary: Option<PathBuf>,
    /// The `wasmtime` CLI (`just setup-wasmtime` installs it).
    #[arg(long, default_value = "wasmtime", conflicts_with = "no_wasmtime")]
    wasmtime: PathBuf,
    /// Load `boundary serve` only: no `wasmtime serve` row.
    #[arg(long)]
    no_wasmtime: bool,
    /// The `wrk` load generator (`just setup-wrk` installs it).
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// The built web app `boundary serve` needs [default: web/dist if built, else a stub].
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Where the report goes; the raw numbers go next to it, as `.json`.
    #[arg(long, default_value = "bench/serve.md")]
    out: PathBuf,
}

/// Why the run stopped.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Load(#[from] LoadTestError),
    #[error("{} not found: run `just setup-wasmtime`, pass --wasmtime, or --no-wasmtime", .0.display())]
    Wasmtime(PathBuf),
    #[error("cannot find the directory of this binary")]
    Exe(#[source] std::io::Error),
    #[error("cannot create {}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Load(error) if !error.is_setup() => 1,
            _ => 2,
        }
    }
}

fn main() -> ExitCode {
    let args = match boundary_bench::cli::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", boundary_host::error::one_line(&failure));
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let wrk = Wrk::find(&args.wrk, args.threads, args.connections)?;
    let wasmtime = if args.no_wasmtime {
        None
    } else {
        Some(resolve(&args.wasmtime).ok_or_else(|| Failure::Wasmtime(args.wasmtime.clone()))?)
    };
    let boundary = match &args.boundary {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(Failure::Exe)?
            .with_file_name("boundary"),
    };
    let settings = Settings {
        secs: args.duration,
        large: args.large,
        wrk,
        boundary,
        wasmtime,
        dist: args.dist.clone(),
        paths: boundary_guests::paths().iter().map(|p| p.name()).collect(),
    };
    let raw = Driver::new(settings)?.run()?;
    write(&args.out, &raw)?;
    eprintln!("wrote {} and its .json", args.out.display());
    Ok(())
}

/// Writes the report and the raw figures beside it, each whole or not at all, and prints the
/// report.
fn write(out: &Path, raw: &Raw) -> Result<(), Failure> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Failure::Dir {
            path: dir.to_owned(),
            source,
        })?;
    }
    let md = markdown(raw);
    let json = serde_json::to_string_pretty(raw).map_err(LoadTestError::Encode)? + "\n";
    write_atomically(out, &md).map_err(LoadTestError::from)?;
    write_atomically(out.with_extension("json"), json).map_err(LoadTestError::from)?;
    print!("{md}");
    Ok(())
}
