//! The load test of the servers (`just bench-serve`, the `bench_serve` binary), on loopback only:
//! `boundary serve` on every registered path, and `wasmtime serve` running the wasi:http guest,
//! each loaded by `wrk` for a bounded time with the seed record, then each path's mixed load
//! (small requests beside large ~7 MiB transforms). Every response body is checked. Figures
//! only; nothing here is a timed assertion.
//!
//! | file | its job |
//! |---|---|
//! | [`supervisor`] | the servers as child processes, killed when dropped |
//! | [`probe`] | the server's RSS and CPU, and the machine's, from `/proc` |
//! | [`wrk`] | the load generator: its checking script, running it, reading its figures |
//! | [`client`] | the large requests, through `ureq` |
//! | [`driver`] | every target in turn, over the registry |
//! | [`report`] | `serve.md` and `serve.json` |
//!
//! Nothing here installs anything: `just setup-wrk` installs wrk and `just setup-wasmtime` the
//! `wasmtime` CLI; a missing one is a one-line error that names its recipe.

pub mod client;
pub mod driver;
mod error;
pub mod probe;
pub mod report;
pub mod supervisor;
pub mod wrk;

pub use driver::{Driver, SEED, SEED_OUT, Settings};
pub use error::LoadTestError;
pub use report::{Raw, markdown};
pub use wrk::Wrk;
