//! Guests built for wasm, for build scripts and tools: a nested `cargo build` of guest crates
//! ([`GuestBuild`]), and the step that turns a core module with `wit-bindgen`'s metadata into a
//! component ([`componentize`]).
//!
//! `host/guests/build.rs` (the embedded guests) and `peers/extism/build.rs` (the Extism plugin)
//! build through [`GuestBuild`]; they and `boundary bench --guest` componentize through
//! [`componentize`]. The nested cargo builds into a target directory of its own, so it never
//! waits on the lock the outer build holds, and the flags meant for the host build (coverage,
//! sanitizers, clippy's wrapper, a shared build directory) do not leak into it.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every guest here builds for: with no WASI imports, a component from it imports
/// nothing.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The workspace profile guests build with (`[profile.guest]`: LTO, `panic = "abort"`).
pub const GUEST_PROFILE: &str = "guest";

/// The environment variable that moves the guests' target directory (default `target/guests`).
pub const TARGET_DIR_VAR: &str = "BOUNDARY_GUEST_TARGET_DIR";

/// Variables meant for the outer (host) build that must not reach the nested wasm build.
const LEAKED: [&str; 7] = [
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_RUSTFLAGS",
    // A build directory shared with the outer build would make the nested cargo wait for the
    // lock the outer one holds: forever.
    "CARGO_BUILD_BUILD_DIR",
];

/// Why a guest could not be built or componentized: one line each, for a build script's stderr.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Cargo did not set a variable every build script gets.
    #[error("cargo did not set {0}")]
    Env(&'static str),
    /// The wasm target is not installed for the toolchain that builds.
    #[error(
        "the {0} target is not installed for this toolchain; run `rustup toolchain install` in the repository root"
    )]
    TargetMissing(&'static str),
    /// A tool could not be started.
    #[error("could not run {what}: {source}")]
    Spawn {
        /// The tool.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The nested cargo failed.
    #[error("building {packages} for {WASM_TARGET} failed ({status}); see the output above")]
    Cargo {
        /// The packages, comma-separated.
        packages: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// A file could not be read or written.
    #[error("could not {what} {}: {source}", path.display())]
    File {
        /// `read` or `write`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A core module could not be encoded as a component.
    #[error("{what}: {detail}")]
    Componentize {
        /// What was being componentized, and what went wrong.
        what: String,
        /// wit-component's error, on one line.
        detail: String,
    },
}

/// A nested `cargo build --target wasm32-unknown-unknown --profile guest` of guest crates of the
/// workspace at `root`, into their own target directory.
#[derive(Debug, Clone)]
pub struct GuestBuild {
    root: PathBuf,
    target_dir: PathBuf,
}

impl GuestBuild {
    /// For the build script of the crate `levels` directories below the workspace root
    /// (`host/guests`: 2): the root from `CARGO_MANIFEST_DIR`, the target directory from
    /// [`TARGET_DIR_VAR`] or `target/guests`. Prints the `rerun-if-env-changed` line for it.
    ///
    /// # Errors
    ///
    /// [`BuildError::Env`] outside a build script.
    pub fn for_build_script(levels: usize) -> Result<Self, BuildError> {
        let manifest_dir = PathBuf::from(
            env::var_os("CARGO_MANIFEST_DIR").ok_or(BuildError::Env("CARGO_MANIFEST_DIR"))?,
        );
        let root = manifest_dir
            .ancestors()
            .nth(levels)
            .unwrap_or(&manifest_dir)
            .to_path_buf();
        println!("cargo::rerun-if-env-changed={TARGET_DIR_VAR}");
        let target_dir = env::var_os(TARGET_DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target").join("guests"));
        Ok(Self { root, target_dir })
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Prints a `rerun-if-changed` line for each of `paths`, relative to the workspace root.
    pub fn rerun_if_changed(&self, paths: &[&str]) {
        for path in paths {
            println!("cargo::rerun-if-changed={}", self.root.join(path).display());
        }
    }

    /// Builds `packages` and returns the directory their `.wasm` files are in (a package
    /// `a-b` gives `a_b.wasm`).
    ///
    /// # Errors
    ///
    /// [`BuildError::TargetMissing`] when the wasm target is not installed,
    /// [`BuildError::Cargo`] when the build fails.
    pub fn build(&self, packages: &[&str]) -> Result<PathBuf, BuildError> {
        check_target_installed()?;
        let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.root)
            .args(["build", "--target", WASM_TARGET, "--profile", GUEST_PROFILE])
            .args(packages.iter().flat_map(|package| ["-p", package]))
            .arg("--target-dir")
            .arg(&self.target_dir);
        for leaked in LEAKED {
            cmd.env_remove(leaked);
        }
        let status = cmd.status().map_err(|source| BuildError::Spawn {
            what: "cargo",
            source,
        })?;
        if !status.success() {
            return Err(BuildError::Cargo {
                packages: packages.join(", "),
                status,
            });
        }
        Ok(self.target_dir.join(WASM_TARGET).join(GUEST_PROFILE))
    }
}

/// Checks that the toolchain cargo builds with has the wasm target's standard library.
fn check_target_installed() -> Result<(), BuildError> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|source| BuildError::Spawn {
            what: "rustc",
            source,
        })?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
    {
        Ok(())
    } else {
        Err(BuildError::TargetMissing(WASM_TARGET))
    }
}

/// Whether a core module carries the `component-type` custom sections `wit-bindgen` writes,
/// which [`componentize`] needs.
pub fn has_component_metadata(core_module: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(core_module)
        .any(|payload| {
            matches!(payload, Ok(wasmparser::Payload::CustomSection(section))
                if section.name().starts_with("component-type"))
        })
}

/// Encodes a core module built with component metadata (`wit-bindgen`'s custom sections) as a
/// component, validated: what `wasm-tools component new` does. `what` names the module in the
/// error.
///
/// # Errors
///
/// [`BuildError::Componentize`] when the module has no usable metadata or does not encode.
pub fn componentize(core_module: &[u8], what: &str) -> Result<Vec<u8>, BuildError> {
    wit_component::ComponentEncoder::default()
        .module(core_module)
        .map_err(|e| BuildError::Componentize {
            what: format!("{what} has no usable component metadata"),
            detail: one_line(&format!("{e:#}")),
        })?
        .validate(true)
        .encode()
        .map_err(|e| BuildError::Componentize {
            what: format!("could not encode {what} as a component"),
            detail: one_line(&format!("{e:#}")),
        })
}

/// Text on one line: wit-component's errors can span several (a byte array printed with `{:#?}`).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a built file.
///
/// # Errors
///
/// [`BuildError::File`].
pub fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|source| BuildError::File {
        what: "read",
        path: path.to_owned(),
        source,
    })
}

/// Writes a build output (into `OUT_DIR`, which nothing reads while it is written).
///
/// # Errors
///
/// [`BuildError::File`].
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    std::fs::write(path, bytes).map_err(|source| BuildError::File {
        what: "write",
        path: path.to_owned(),
        source,
    })
}

/// `OUT_DIR`, where a build script writes what it embeds.
///
/// # Errors
///
/// [`BuildError::Env`] outside a build script.
pub fn out_dir() -> Result<PathBuf, BuildError> {
    env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .ok_or(BuildError::Env("OUT_DIR"))
}

/// Runs a build script's body: on error, one line on stderr (which cargo shows) and a failed
/// exit.
pub fn run_build_script(body: impl FnOnce() -> Result<(), BuildError>) -> std::process::ExitCode {
    match body() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_found_only_where_wit_bindgen_put_it() -> Result<(), Box<dyn std::error::Error>> {
        let plain = wat::parse_str("(module (func (export \"f\")))")?;
        assert!(!has_component_metadata(&plain));
        let tagged = wat::parse_str("(module (@custom \"component-type:transformer\" \"\"))")?;
        assert!(has_component_metadata(&tagged));
        Ok(())
    }

    #[test]
    fn what_does_not_componentize_is_named_in_one_line() {
        let error = componentize(b"not wasm at all", "the test module");
        let line = error.map(|_| ()).map_err(|e| e.to_string());
        let Err(line) = line else {
            panic!("componentized bytes that are not wasm");
        };
        assert!(
            line.starts_with("the test module has no usable component metadata"),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }
}
