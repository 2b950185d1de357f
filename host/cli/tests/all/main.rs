//! The CLI's integration tests: one binary, one module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod bench;
mod cache;
mod cli;
mod contract;
mod http_guest;
mod serve;
mod serve_store;
