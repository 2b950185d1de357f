//! The benchmark as a library: what `boundary bench` runs ([`Suite`]), and what the load test of
//! the servers (`just bench-serve`, [`load`]) is made of. The reports it writes sit beside this
//! crate, in `bench/*.md`.
//!
//! `boundary bench` measures every workload on every row (native Rust, then each registered
//! path's `Instance::transform`, the same on a pooled instance, and each of its
//! `Load::variants()`), instantiation for every registered path, and batch throughput, in one
//! process on the same inputs. It writes a Markdown report and an SVG chart; the criterion
//! benches (`benches/boundary.rs`) time the very same closures.
//!
//! Times on a shared machine are noise; ratios measured in one run are not. The samples of all
//! the rows of a workload are therefore interleaved round-robin, so drift in the machine's speed
//! hits every row alike, and every figure is reported as a ratio to native Rust as well.
//!
//! Nothing here names a path: rows come from the registry (`boundary_guests::for_each_path`), so
//! a newly registered path is measured, charted, load-tested and checked against native Rust
//! with no edit here. Only the goals name rows, because they are the issues' goals.
//!
//! | module | its job |
//! |---|---|
//! | [`guests`] | `--guest` files in place of the embedded defaults, componentized when needed |
//! | [`engine`] | the limits, engines and executor every row runs on |
//! | [`rows`] | the call harness: every row, checked against native Rust and timed |
//! | [`instantiation`] | the instantiation harness: four ways to get an instance, per path |
//! | [`measure`] | calibrating, round-robin samples, medians: the whole matrix |
//! | [`batch`] | batch throughput through the batch engine at 1 and 2 workers |
//! | [`peers`] | figures of peers measured in their own process (Extism) |
//! | [`goals`] | the issues' goals and the verdicts |
//! | [`report`], [`web`], [`chart`] | the Markdown, its browser section, the SVG |
//! | [`suite`] | one whole run, as `boundary bench` makes it |
//! | [`load`] | the load test of `boundary serve` and `wasmtime serve` |
//! | [`cli`] | one-line flag errors for this crate's binaries |

pub mod batch;
pub mod chart;
pub mod cli;
pub mod engine;
pub mod error;
pub mod goals;
pub mod guests;
pub mod instantiation;
pub mod load;
pub mod measure;
pub mod peers;
pub mod report;
pub mod rows;
pub mod suite;
pub mod web;

pub use boundary_schema::Plan;
pub use boundary_schema::workloads::{Workload, workloads};
pub use error::BenchError;
pub use guests::Guests;
pub use instantiation::{InstHarness, InstKind};
pub use measure::{Cell, InstCell, MemoryGrowth, Results};
pub use rows::{Harness, RowInfo, RowKind};
pub use suite::{DEFAULT_WEB_RESULTS, Options, Suite, Written, merge_web_only};
