//! Soak: for every registered path, many calls on one instance, then many instantiate/call/drop
//! cycles, printing the guest's memory (`Instance::memory_bytes`) and the host's resident set
//! before and after. Figures only; nothing here is a timed assertion.
//!
//! `just soak` runs it in release mode: `cargo run --release -p boundary-bench --example soak
//! -- [CALLS] [CYCLES]` (defaults 1,000,000 and 10,000). A bad argument is one line and exit 2.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use boundary_host::{Guest, Instance, Runtime, SomeDataStruct};
use clap::Parser;

const WARM_UP: u64 = 10_000;
const WARM_UP_CYCLES: u64 = 100;

/// Resident set size of this process, in bytes (`memory-stats`: smaps or statm on Linux, the
/// platform's own call elsewhere).
fn rss_bytes() -> Result<u64> {
    let stats = memory_stats::memory_stats().context("cannot read this process's memory use")?;
    Ok(stats.physical_mem as u64)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn signed_kib(after: u64, before: u64) -> String {
    let delta = after as i64 - before as i64;
    format!("{:+.1} KiB", delta as f64 / 1024.0)
}

/// Soak every registered path: many calls on one instance, then many short-lived instances.
#[derive(Debug, Parser)]
#[command(name = "soak")]
struct Args {
    /// Calls per path on one instance.
    #[arg(default_value_t = 1_000_000)]
    calls: u64,
    /// Instantiate/call/drop cycles per path.
    #[arg(default_value_t = 10_000)]
    cycles: u64,
}

/// Warms up, then makes `calls` calls on one instance and prints the guest memory and the host
/// RSS before and after.
async fn soak_one_instance(
    name: &str,
    guest: &impl Guest,
    input: &SomeDataStruct,
    calls: u64,
) -> Result<()> {
    let mut instance = guest.instantiate().await?;
    for _ in 0..WARM_UP {
        instance.transform(input).await?;
    }
    let (mem0, rss0, start) = (instance.memory_bytes(), rss_bytes()?, Instant::now());
    for _ in 0..calls {
        std::hint::black_box(instance.transform(input).await?);
    }
    let (mem1, rss1) = (instance.memory_bytes(), rss_bytes()?);
    println!(
        "{:<10} {calls} calls in {:.2?}; guest memory {mem0} -> {mem1} bytes ({}); host RSS {:.1} -> {:.1} MiB ({})",
        format!("{name}:"),
        start.elapsed(),
        signed_kib(mem1 as u64, mem0 as u64),
        mib(rss0),
        mib(rss1),
        signed_kib(rss1, rss0)
    );
    Ok(())
}

/// Warms up, then makes `cycles` short-lived instances (one call each) and prints the host RSS
/// before and after, and the guest memory of the last one.
async fn soak_fresh_instances(
    name: &str,
    guest: &impl Guest,
    input: &SomeDataStruct,
    cycles: u64,
) -> Result<()> {
    let once = async || -> Result<usize> {
        let mut instance = guest.instantiate().await?;
        instance.transform(input).await?;
        Ok(instance.memory_bytes())
    };
    for _ in 0..WARM_UP_CYCLES {
        once().await?;
    }
    let (rss0, start) = (rss_bytes()?, Instant::now());
    let mut memory = 0;
    for _ in 0..cycles {
        memory = once().await?;
    }
    let rss1 = rss_bytes()?;
    println!(
        "{:<10} {cycles} instantiate/call/drop cycles in {:.2?}; guest memory {memory} bytes each; host RSS {:.1} -> {:.1} MiB ({})",
        format!("{name}:"),
        start.elapsed(),
        mib(rss0),
        mib(rss1),
        signed_kib(rss1, rss0)
    );
    Ok(())
}

fn main() -> ExitCode {
    let Args { calls, cycles } = match boundary_bench::cli::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    let soaked = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|executor| executor.block_on(soak(calls, cycles)));
    match soaked {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn soak(calls: u64, cycles: u64) -> Result<()> {
    let runtime = Runtime::new(Default::default())?;
    let paths = boundary_guests::paths();
    let guests = paths
        .iter()
        .map(|path| {
            let guest = path
                .load_default(&runtime)
                .with_context(|| format!("the {} path's embedded guest", path.name()))?;
            Ok((path.name(), guest))
        })
        .collect::<Result<Vec<_>>>()?;
    let input = SomeDataStruct::example();
    println!(
        "soak: {calls} calls per path on one instance (after {WARM_UP} warm-up calls), then {cycles} instantiate/drop cycles per path"
    );
    println!();
    for (name, guest) in &guests {
        soak_one_instance(name, guest, &input, calls).await?;
    }
    for (name, guest) in &guests {
        soak_fresh_instances(name, guest, &input, cycles).await?;
    }
    Ok(())
}
