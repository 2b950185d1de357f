//! The default guests, built by `build.rs` from `guest/` and embedded in the binary.

/// The `transformer` component built from `guest/component`: no imports, two exports.
pub const COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/transformer.component.wasm"));

/// The ptr/len core module built from `guest/raw`.
pub const CORE_MODULE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/transformer.core.wasm"));

/// File name `boundary inspect --write-guests` gives [`COMPONENT`].
pub const COMPONENT_FILE_NAME: &str = "transformer.component.wasm";

/// File name `boundary inspect --write-guests` gives [`CORE_MODULE`].
pub const CORE_MODULE_FILE_NAME: &str = "transformer.core.wasm";
