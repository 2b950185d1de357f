//! Builds the two default guests and hands them to the host as embedded bytes.
//!
//! Both guests are compiled by a nested `cargo build --target wasm32-unknown-unknown --profile
//! guest` into their own target directory (`target/guests`), so the nested cargo never waits on
//! the outer one's lock. The component guest is then turned into a component with
//! `wit-component` (the library behind `wasm-tools component new`): as it is built for
//! `wasm32-unknown-unknown`, the component imports nothing.
//!
//! Outputs, in `OUT_DIR`: `transformer.component.wasm` and `transformer.core.wasm`.

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

    check_target_installed()?;

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", WASM_TARGET, "--profile", GUEST_PROFILE])
        .args(["-p", "boundary-guest-component", "-p", "boundary-guest-raw"])
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
        .map_err(|e| format!("could not start cargo to build the guests: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the guests failed ({status}); see the output above"
        ));
    }

    let built = target_dir.join(WASM_TARGET).join(GUEST_PROFILE);
    let core_module = read(&built.join("boundary_guest_component.wasm"))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&core_module)
        .map_err(|e| format!("the component guest has no usable component metadata: {e:#}"))?
        .validate(true)
        .encode()
        .map_err(|e| format!("could not encode the component guest as a component: {e:#}"))?;
    write(&out_dir.join("transformer.component.wasm"), &component)?;

    let raw = read(&built.join("boundary_guest_raw.wasm"))?;
    write(&out_dir.join("transformer.core.wasm"), &raw)?;

    Ok(())
}

fn check_target_installed() -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("could not run rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let target_lib = Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET);
    if target_lib.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "the {WASM_TARGET} target is not installed for this toolchain; run `rustup toolchain install` in the repository root"
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
