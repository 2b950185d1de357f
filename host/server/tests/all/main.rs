//! The server's integration tests: one binary, one module per concern. Each drives the router
//! in-process, with every registered path's embedded guest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lanes;
mod routes;
mod sqlite;
mod support;
mod todos;
mod transform;
mod typescript;
