//! The kernel as a component of the `wasi:http/proxy` world (WASI 0.2): the component that
//! `wasmtime serve`, Spin, wasmCloud and Fastly Compute run unchanged.
//!
//! Built for `wasm32-wasip2` (`host/guests/build.rs` does it; the embedded bytes are
//! `boundary_guests::HTTP_COMPONENT`). The routes are in [`route`], plain Rust that the host tests;
//! `wasi.rs` only moves a request in and a response out through the `wasi:http` bindings of the
//! `wasip2` crate. The logic is [`boundary_kernel`]'s, as in the other guests.
//!
//! The `wasi:http` glue is compiled for `wasm32` only: its export is named
//! `wasi:http/incoming-handler@0.2.12#handle`, which a native linker's symbol list rejects. On
//! the host this crate is the routes alone, so `cargo test --workspace` runs their tests.

pub mod route;
#[cfg(target_arch = "wasm32")]
mod wasi;
