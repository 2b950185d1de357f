//! The kernel as an Extism plugin, written the way Extism users write plugins: `#[plugin_fn]`
//! functions from `extism-pdk`, built for `wasm32-unknown-unknown` (by `peers/extism/build.rs`).
//!
//! | export | input | output |
//! |---|---|---|
//! | `transform` | JSON `{"name": .., "names": [..]}` | the transformed record as JSON |
//! | `button_text` | a JSON string | the label as a JSON string |
//! | `transform_bytes` | `boundary_kernel::wire::encode(record)` (postcard, the raw path's encoding) | the transformed record, postcard |
//! | `button_text_bytes` | the status as UTF-8 bytes | the label as UTF-8 bytes |
//!
//! The JSON exports are what an Extism user writes first; the bytes exports are Extism at its
//! best, with no JSON on either side. Every export refuses input it cannot decode with an Extism
//! error (the host's `Plugin::call` returns `Err`); none traps on bad input.
//!
//! `extism-pdk` compiles for wasm32 only, so on any other target this crate is empty.

#![cfg(target_arch = "wasm32")]

use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire;
use extism_pdk::{Error, FnResult, Json, plugin_fn};

/// The kernel's `transform`, JSON in and out.
#[plugin_fn]
pub fn transform(Json(input): Json<SomeDataStruct>) -> FnResult<Json<SomeDataStruct>> {
    Ok(Json(boundary_kernel::transform(input)))
}

/// The kernel's `button_text`, a JSON string in and out.
#[plugin_fn]
pub fn button_text(Json(status): Json<String>) -> FnResult<Json<String>> {
    Ok(Json(boundary_kernel::button_text(&status).to_owned()))
}

/// The kernel's `transform`, postcard in and out (the encoding of [`boundary_kernel::wire`]).
#[plugin_fn]
pub fn transform_bytes(input: Vec<u8>) -> FnResult<Vec<u8>> {
    let record: SomeDataStruct = wire::decode_exact(&input).map_err(Error::new)?;
    Ok(wire::encode(&boundary_kernel::transform(record)).map_err(Error::new)?)
}

/// The kernel's `button_text`, UTF-8 bytes in and out; input that is not UTF-8 is refused.
#[plugin_fn]
pub fn button_text_bytes(status: String) -> FnResult<Vec<u8>> {
    Ok(boundary_kernel::button_text(&status).as_bytes().to_vec())
}
