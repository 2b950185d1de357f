//! The bench crate's integration tests: the matrix, report, chart and `--guest` files
//! (`matrix`), and the load test's command line (`bench_serve`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench_serve;
mod matrix;
