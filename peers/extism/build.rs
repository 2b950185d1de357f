//! Builds the Extism plugin (guest/extism) and hands it to the peer as embedded bytes, through
//! the same nested guest build as the default guests (`boundary_build::GuestBuild`).
//!
//! Output, in `OUT_DIR`: `plugin.wasm`.

use boundary_build::{BuildError, GuestBuild, out_dir, read, run_build_script, write};

const PLUGIN: &str = "boundary-guest-extism";

fn main() -> std::process::ExitCode {
    run_build_script(build)
}

fn build() -> Result<(), BuildError> {
    // peers/extism -> the workspace root.
    let guests = GuestBuild::for_build_script(2)?;
    guests.rerun_if_changed(&["kernel", "guest/extism", "Cargo.toml", "Cargo.lock"]);
    let built = guests.build(&[PLUGIN])?;
    let plugin = read(&built.join("boundary_guest_extism.wasm"))?;
    write(&out_dir()?.join("plugin.wasm"), &plugin)
}
