//! `boundary demo`: every registered path on the example record, what crossed the boundary in
//! one call of each, a check that they all agree with native Rust, and a short timing.

use std::hint::black_box;
use std::time::Instant;

use boundary_host::{
    AnyGuest, Called, Guest as _, Instance as _, SomeDataStruct, Traffic, native_button_text,
    native_transform,
};

use crate::commands::{LimitArgs, block_on};
use crate::failure::{Failure, FailureContext as _};
use boundary_schema::stats::{Timings, fmt_duration, ratio};

/// The most calls `--calls` takes: ten million calls per path is minutes of timing, and the
/// timings keep a bounded histogram however many there are.
pub const MAX_CALLS: u32 = 10_000_000;

/// Flags of `boundary demo` (its help is on `Command::Demo` in `main.rs`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Calls per path for the timing.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CALLS)))]
    calls: u32,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The statuses whose button labels the demo compares.
const STATUSES: [&str; 3] = ["PENDING", "DONE", "archived"];

/// Runs the command.
///
/// # Errors
///
/// [`Failure::Guest`] when a guest fails or a path disagrees with native Rust.
pub fn execute(args: Args) -> Result<(), Failure> {
    let runtime = args.limits.runtime()?;
    let guests = boundary_guests::paths()
        .iter()
        .map(|path| {
            path.load_default(&runtime)
                .context_of(format!("embedded {}", path.registration.file_name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    block_on(demo(&guests, args.calls))
}

async fn demo(guests: &[AnyGuest], calls: u32) -> Result<(), Failure> {
    let input = SomeDataStruct::example();
    println!("Input contract: {input:?}");
    println!();

    let native = native_transform(input.clone());
    let mut disagree = Vec::new();
    for guest in guests {
        let registration = guest.registration();
        println!("== {} path ({})", registration.name, registration.about);
        let mut instance = guest.instantiate().await.context_of(path_of(guest))?;
        let first = instance
            .transform(&input)
            .await
            .context_of(path_of(guest))?;
        print_walkthrough(&first);
        if first.value != native {
            disagree.push(format!("{} {:?}", guest.name(), first.value));
        }
    }
    let names: Vec<&str> = guests.iter().map(AnyGuest::name).collect();
    println!("== every path ({})", names.join(", "));
    if !disagree.is_empty() {
        return Err(Failure::guest(format!(
            "the paths disagree with native Rust {native:?}: {}",
            disagree.join(", ")
        )));
    }
    println!("  identical output from native Rust and every path");
    for status in STATUSES {
        let expected = native_button_text(status);
        for guest in guests {
            let label = guest
                .instantiate()
                .await
                .context_of(path_of(guest))?
                .button_text(status)
                .await
                .context_of(path_of(guest))?
                .value;
            if label != expected {
                return Err(Failure::guest(format!(
                    "button-text({status:?}) on the {} path is {label:?}, native Rust says {expected:?}",
                    guest.name()
                )));
            }
        }
        println!("  button-text({status:?}) = {expected:?} on every path, as in native Rust");
    }
    println!();

    println!("== median time per transform, {calls} calls on one instance");
    let mut native_time = Timings::new();
    for _ in 0..calls {
        let start = Instant::now();
        black_box(native_transform(black_box(input.clone())));
        native_time.record(start.elapsed());
    }
    let native_median = native_time.median();
    let width = names
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0)
        .max("native Rust".len())
        + 1;
    println!(
        "  {:width$} {:>10}",
        "native Rust:",
        fmt_duration(native_median)
    );
    for guest in guests {
        let mut instance = guest.instantiate().await.context_of(path_of(guest))?;
        let mut timings = Timings::new();
        for _ in 0..calls {
            let start = Instant::now();
            black_box(
                instance
                    .transform(&input)
                    .await
                    .context_of(path_of(guest))?,
            );
            timings.record(start.elapsed());
        }
        let median = timings.median();
        println!(
            "  {:width$} {:>10}  ({:.1}x native)",
            format!("{}:", guest.name()),
            fmt_duration(median),
            ratio(median, native_median)
        );
    }
    if cfg!(debug_assertions) {
        println!("  (a debug build of the host: wasmtime is optimised, this binary's glue is not)");
    }
    Ok(())
}

/// `"<name> path"`, the context of a path's errors.
fn path_of(guest: &AnyGuest) -> String {
    format!("{} path", guest.name())
}

fn print_walkthrough(called: &Called<SomeDataStruct>) {
    let Traffic {
        guest_calls,
        bytes_in,
        bytes_out,
    } = called.traffic;
    println!("Output contract: {:?}", called.value);
    println!(
        "  guest calls: {guest_calls}; bytes copied into the guest: {bytes_in}; out of it: {bytes_out}"
    );
    println!();
}
