//! Builds the Extism plugin (guest/extism) and hands it to the peer as embedded bytes.
//!
//! As host/guests/build.rs does for the default guests: a nested `cargo build --target
//! wasm32-unknown-unknown --profile guest` into its own target directory (`target/guests`, or
//! `$BOUNDARY_GUEST_TARGET_DIR`), so the nested cargo never waits on the outer one's lock, with
//! the flags meant for the host build removed.
//!
//! Output, in `OUT_DIR`: `plugin.wasm`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const GUEST_PROFILE: &str = "guest";
const PLUGIN: &str = "boundary-guest-extism";

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
    // peers/extism -> the workspace root.
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .ok_or("peers/extism has no workspace root two levels up")?
        .to_path_buf();
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let target_dir = env::var_os("BOUNDARY_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("guests"));

    for watched in ["kernel", "guest/extism", "Cargo.toml", "Cargo.lock"] {
        println!("cargo::rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo::rerun-if-env-changed=BOUNDARY_GUEST_TARGET_DIR");

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", WASM_TARGET, "--profile", GUEST_PROFILE])
        .args(["-p", PLUGIN])
        .arg("--target-dir")
        .arg(&target_dir);
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
        .map_err(|e| format!("could not start cargo to build the Extism plugin: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the Extism plugin ({PLUGIN}) failed ({status}); is the {WASM_TARGET} target installed (`rustup toolchain install`)? See the output above"
        ));
    }

    let built = target_dir
        .join(WASM_TARGET)
        .join(GUEST_PROFILE)
        .join("boundary_guest_extism.wasm");
    let plugin = read(&built)?;
    write(&out_dir.join("plugin.wasm"), &plugin)?;
    Ok(())
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
