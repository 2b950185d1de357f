//! Builds the default guests and hands them to the host as embedded bytes.
//!
//! The two transformer guests and the `wasi:http/proxy` guest are compiled by one nested cargo
//! build (`boundary_build::GuestBuild`: `--target wasm32-unknown-unknown --profile guest`, into
//! `target/guests`). The component guest is then turned into a component with `wit-component`
//! (the library behind `wasm-tools component new`): as it is built for `wasm32-unknown-unknown`,
//! the component imports nothing.
//!
//! The `wasi:http/proxy` guest (`guest/http`) gets its `wasi:http` bindings from the `wasip2`
//! crate and is encoded the same way: the component then imports only the `wasi:http`/`wasi:io`
//! interfaces the guest calls. Built for `wasm32-wasip2` instead, the standard library's runtime
//! would make it import `wasi:cli/environment`, `wasi:cli/exit` and the `wasi:cli` terminal
//! interfaces, which the `wasi:http/proxy` world does not have: `wasmtime serve` (without
//! `-Scli`) refuses such a component.
//!
//! Outputs, in `OUT_DIR`: `transformer.component.wasm`, `transformer.core.wasm` and
//! `http.component.wasm`.

use boundary_build::{
    BuildError, GuestBuild, componentize, out_dir, read, run_build_script, write,
};

fn main() -> std::process::ExitCode {
    run_build_script(build)
}

fn build() -> Result<(), BuildError> {
    // host/guests -> the workspace root.
    let guests = GuestBuild::for_build_script(2)?;
    guests.rerun_if_changed(&["wit", "kernel", "guest", "Cargo.toml", "Cargo.lock"]);
    let out = out_dir()?;
    let built = guests.build(&[
        "boundary-guest-component",
        "boundary-guest-raw",
        "boundary-guest-http",
    ])?;

    let core_module = read(&built.join("boundary_guest_component.wasm"))?;
    let component = componentize(&core_module, "the component guest")?;
    write(&out.join("transformer.component.wasm"), &component)?;

    let raw = read(&built.join("boundary_guest_raw.wasm"))?;
    write(&out.join("transformer.core.wasm"), &raw)?;

    let http = read(&built.join("boundary_guest_http.wasm"))?;
    let http = componentize(&http, "the wasi:http guest")?;
    write(&out.join("http.component.wasm"), &http)
}
