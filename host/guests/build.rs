//! Builds the default guests and hands them to the host as embedded bytes.
//!
//! The two transformer guests are compiled by a nested `cargo build --target
//! wasm32-unknown-unknown --profile guest` into their own target directory (`target/guests`), so
//! the nested cargo never waits on the outer one's lock. The component guest is then turned into a
//! component with `wit-component` (the library behind `wasm-tools component new`): as it is built
//! for `wasm32-unknown-unknown`, the component imports nothing.
//!
//! The `wasi:http/proxy` guest (`guest/http`) is built the same way, its `wasi:http` bindings
//! coming from the `wasip2` crate, and encoded the same way: the component then imports only the
//! `wasi:http`/`wasi:io` interfaces the guest calls. Built for `wasm32-wasip2` instead, the standard
//! library's runtime would make it import `wasi:cli/environment`, `wasi:cli/exit` and the
//! `wasi:cli` terminal interfaces, which the `wasi:http/proxy` world does not have: `wasmtime
//! serve` (without `-Scli`) refuses such a component.
//!
//! Outputs, in `OUT_DIR`: `transformer.component.wasm`, `transformer.core.wasm` and
//! `http.component.wasm`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const GUEST_PROFILE: &str = "guest";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Cargo shows a failing build script's stderr; keep the cause on one line.
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    // host/guests -> the workspace root.
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .ok_or("host/guests has no workspace root two levels up")?
        .to_path_buf();
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let target_dir = env::var_os("BOUNDARY_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("guests"));

    for watched in ["wit", "kernel", "guest", "Cargo.toml", "Cargo.lock"] {
        println!("cargo::rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo::rerun-if-env-changed=BOUNDARY_GUEST_TARGET_DIR");

    check_target_installed(WASM_TARGET)?;

    nested_build(
        &root,
        &target_dir,
        WASM_TARGET,
        &[
            "boundary-guest-component",
            "boundary-guest-raw",
            "boundary-guest-http",
        ],
    )?;

    let built = target_dir.join(WASM_TARGET).join(GUEST_PROFILE);
    let core_module = read(&built.join("boundary_guest_component.wasm"))?;
    let component = componentize(&core_module, "the component guest")?;
    write(&out_dir.join("transformer.component.wasm"), &component)?;

    let raw = read(&built.join("boundary_guest_raw.wasm"))?;
    write(&out_dir.join("transformer.core.wasm"), &raw)?;

    let http = read(&built.join("boundary_guest_http.wasm"))?;
    let http = componentize(&http, "the wasi:http guest")?;
    write(&out_dir.join("http.component.wasm"), &http)?;

    Ok(())
}

/// Encodes a core module built with component metadata (wit-bindgen's custom sections) as a
/// component, validated.
fn componentize(core_module: &[u8], what: &str) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(core_module)
        .map_err(|e| format!("{what} has no usable component metadata: {e:#}"))?
        .validate(true)
        .encode()
        .map_err(|e| format!("could not encode {what} as a component: {e:#}"))
}

/// `cargo build --target TARGET --profile guest -p PACKAGE...` into `target_dir`.
fn nested_build(
    root: &Path,
    target_dir: &Path,
    target: &str,
    packages: &[&str],
) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--target", target, "--profile", GUEST_PROFILE])
        .args(packages.iter().flat_map(|package| ["-p", package]))
        .arg("--target-dir")
        .arg(target_dir);
    // Flags meant for the host build (coverage, sanitizers, clippy's wrapper) must not leak
    // into the wasm build.
    for leaked in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        cmd.env_remove(leaked);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("could not start cargo to build the guests: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building {} for {target} failed ({status}); see the output above",
            packages.join(", ")
        ))
    }
}

fn check_target_installed(target: &str) -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("could not run rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let target_lib = Path::new(&sysroot).join("lib/rustlib").join(target);
    if target_lib.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "the {target} target is not installed for this toolchain; run `rustup toolchain install` in the repository root"
        ))
    }
}

fn var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("could not read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("could not write {}: {e}", path.display()))
}
