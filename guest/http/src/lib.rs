//! The kernel as a component of the `wasi:http/proxy` world (WASI 0.2): the component that
//! `wasmtime serve`, Spin, wasmCloud and Fastly Compute run unchanged.
//!
//! Built by `host/guests/build.rs` for `wasm32-unknown-unknown` and encoded as a component with
//! `wit-component`, from the `wasi:http` bindings the `wasip2` crate embeds (the bytes are
//! `boundary_guests::HTTP_COMPONENT`). The component then imports only the `wasi:http` and `wasi:io`
//! interfaces it calls. Built for `wasm32-wasip2`, the standard library's runtime would also import
//! `wasi:cli/environment`, `wasi:cli/exit` and the terminal interfaces, which the proxy world lacks
//! and `wasmtime serve` refuses. The routes are in [`route`], plain Rust that the host tests;
//! `wasi.rs` only moves a request in and a response out through the `wasi:http` bindings of the
//! `wasip2` crate. The logic is [`boundary_kernel`]'s, as in the other guests.
//!
//! The `wasi:http` glue is compiled for `wasm32` only: its export is named
//! `wasi:http/incoming-handler@0.2.12#handle`, which a native linker's symbol list rejects. On
//! the host this crate is the routes alone, so `cargo test --workspace` runs their tests.

pub mod route;
#[cfg(target_arch = "wasm32")]
mod wasi;
