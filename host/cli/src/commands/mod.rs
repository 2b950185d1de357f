//! One module per command, as wasmtime's and Spin's `src/commands/` are laid out. Each has an
//! `Args` (its flags) and an `execute` that runs it.

pub mod bench;
pub mod button_text;
pub mod demo;
pub mod inspect;
pub mod run;
pub mod serve;

use std::time::Duration;

use boundary_host::Limits;

use crate::failure::Failure;

/// Limits every guest runs under: the flags of the commands that run guests. The defaults are
/// the library's.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Linear memory one guest instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory_mib: u32,
    /// Wall-clock time one call may take, in milliseconds (epoch interruption).
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub deadline_ms: u64,
    /// Fuel per call, for a deterministic limit; off unless given.
    #[arg(long, value_name = "UNITS", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Native stack wasm code may use, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..=65536))]
    pub max_stack_kib: u32,
    /// Largest encoded input copied into a guest, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_input_bytes: u32,
    /// Largest output copied out of a guest, in bytes; checked before allocating.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_output_bytes: u32,
    /// Largest guest file read by --guest, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_guest_mib: u64,
}

impl LimitArgs {
    /// The library's limits with these flags applied.
    pub fn limits(&self) -> Limits {
        Limits {
            max_input_bytes: self.max_input_bytes,
            max_output_bytes: self.max_output_bytes,
            max_memory_bytes: (self.max_memory_mib as usize) << 20,
            deadline: Duration::from_millis(self.deadline_ms),
            fuel: self.fuel,
            max_wasm_stack: (self.max_stack_kib as usize) << 10,
            max_guest_file_bytes: self.max_guest_mib << 20,
            ..Limits::default()
        }
    }
}

/// Runs `future` on a current-thread executor: what the commands that make a few calls use.
pub fn block_on<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Guest(anyhow::Error::new(e).context("cannot start the async runtime")))?
        .block_on(future)
}
