//! Soak: many calls on one instance per path, then many instantiate/drop cycles, printing guest
//! memory and host RSS before and after. Figures only; nothing here is a timed assertion.
//!
//! `just soak` runs it in release mode: `cargo run --release -p boundary-host --example soak --
//! [CALLS] [CYCLES]` (defaults 1,000,000 and 10,000).

use std::time::Instant;

use anyhow::{Context as _, Result};
use boundary_host::{Runtime, SomeDataStruct, embedded};

const WARM_UP: u64 = 10_000;

/// Resident set size of this process, from /proc/self/statm.
fn rss_bytes() -> Result<u64> {
    let statm =
        std::fs::read_to_string("/proc/self/statm").context("cannot read /proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .context("unexpected /proc/self/statm")?
        .parse()
        .context("unexpected /proc/self/statm")?;
    Ok(pages * 4096)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn signed_kib(after: u64, before: u64) -> String {
    let delta = after as i64 - before as i64;
    format!("{:+.1} KiB", delta as f64 / 1024.0)
}

/// Warms up, then makes `calls` calls and prints the guest memory (as `call` reports it after
/// each call) and the host RSS before and after.
async fn soak_one_instance(
    name: &str,
    calls: u64,
    mut call: impl AsyncFnMut() -> Result<(SomeDataStruct, usize)>,
) -> Result<()> {
    let mut memory = 0;
    for _ in 0..WARM_UP {
        memory = call().await?.1;
    }
    let (mem0, rss0, start) = (memory, rss_bytes()?, Instant::now());
    for _ in 0..calls {
        let (output, bytes) = call().await?;
        std::hint::black_box(output);
        memory = bytes;
    }
    let rss1 = rss_bytes()?;
    println!(
        "{:<10} {calls} calls in {:.2?}; guest memory {} -> {} bytes ({}); host RSS {:.1} -> {:.1} MiB ({})",
        format!("{name}:"),
        start.elapsed(),
        mem0,
        memory,
        signed_kib(memory as u64, mem0 as u64),
        mib(rss0),
        mib(rss1),
        signed_kib(rss1, rss0)
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let calls: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()
        .context("CALLS must be a number")?
        .unwrap_or(1_000_000);
    let cycles: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()
        .context("CYCLES must be a number")?
        .unwrap_or(10_000);

    let runtime = Runtime::new(Default::default())?;
    let component = runtime.component(embedded::COMPONENT)?;
    let raw = runtime.raw(embedded::CORE_MODULE)?;
    let input = SomeDataStruct::example();
    println!(
        "soak: {calls} calls per path on one instance (after {WARM_UP} warm-up calls), then {cycles} instantiate/drop cycles per path"
    );
    println!();

    // One instance per path, many calls.
    let mut component_instance = component.instantiate().await?;
    soak_one_instance("component", calls, async || {
        let called = component_instance.transform(&input).await?;
        Ok((called.value, component_instance.memory_bytes()))
    })
    .await?;
    let mut raw_instance = raw.instantiate().await?;
    soak_one_instance("raw", calls, async || {
        let called = raw_instance.transform(&input).await?;
        Ok((called.value, raw_instance.memory_bytes()))
    })
    .await?;

    // Many short-lived instances.
    for (name, warm, run) in [("component", 100, cycles), ("raw", 100, cycles)] {
        let once = async || -> Result<()> {
            if name == "component" {
                let mut i = component.instantiate().await?;
                i.transform(&input).await?;
            } else {
                let mut i = raw.instantiate().await?;
                i.transform(&input).await?;
            }
            Ok(())
        };
        for _ in 0..warm {
            once().await?;
        }
        let (rss0, start) = (rss_bytes()?, Instant::now());
        for _ in 0..run {
            once().await?;
        }
        let rss1 = rss_bytes()?;
        println!(
            "{:<10} {run} instantiate/call/drop cycles in {:.2?}; host RSS {:.1} -> {:.1} MiB ({})",
            format!("{name}:"),
            start.elapsed(),
            mib(rss0),
            mib(rss1),
            signed_kib(rss1, rss0)
        );
    }
    Ok(())
}
