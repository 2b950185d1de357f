//! The `boundary` command as a library: one module per command (`commands`), how failures map
//! to exit codes (`failure`), what `run` and `batch` read and write (`input`, `output`) and
//! `batch`'s progress bar (`progress`); timing statistics are `boundary_schema::stats`. The binary
//! (`main.rs`) only parses the command line and dispatches; the integration tests drive the
//! server's router in-process through this crate.

pub mod commands;
pub mod failure;
mod input;
mod output;
mod progress;
