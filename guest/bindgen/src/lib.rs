//! The wasm-bindgen peer of the browser: the kernel's two functions behind `#[wasm_bindgen]`, the
//! way the seed chapter's browser path (built with wasm-pack) and most Rust-to-browser code cross
//! the boundary.
//!
//! - [`rust_generate_button_text`] is the seed's export under the seed's name: a JS string in
//!   (wasm-bindgen copies it into linear memory as UTF-8), a JS string out.
//! - [`transform`] takes the record as a plain JavaScript object (`{ name, names }`) and returns a
//!   new one. The conversion is `serde-wasm-bindgen`'s, driven by the kernel's own
//!   `Serialize`/`Deserialize` derives, so this crate restates neither the record nor its logic.
//!
//! Why serde-wasm-bindgen and not tsify: tsify's derive must sit on the type itself, which would
//! mean either a wasm-only dependency in the kernel or a mirror struct here; serde-wasm-bindgen
//! needs neither, and both build with rustc 1.95. The TypeScript type of the record is declared
//! once below (`typescript_custom_section`) and the web's tests check that it is the same as the
//! one jco generates from the WIT (they assign one to the other).
//!
//! Errors: an input that is not a record (not an object, a missing or mistyped field) is thrown to
//! JavaScript as an `Error` whose message is serde-wasm-bindgen's; nothing panics. A field the
//! record does not have is ignored, not refused: serde-wasm-bindgen reads the fields it knows by
//! name, so the kernel's `deny_unknown_fields` never sees the others (jco's glue and the ptr/len
//! encoder also read `name` and `names` only).

use boundary_kernel::SomeDataStruct;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const RECORD_TS: &str = r#"
/** `record some-data-struct` of wit/world.wit, as a plain object. */
export interface SomeDataStruct {
  name: string;
  names: string[];
}
"#;

/// The seed's `rust_generate_button_text`: a to-do status to its button label
/// ([`boundary_kernel::button_text`]).
#[wasm_bindgen]
#[must_use]
pub fn rust_generate_button_text(status: &str) -> String {
    boundary_kernel::button_text(status).to_owned()
}

/// The contract's `transform` ([`boundary_kernel::transform`]) on a JavaScript object.
///
/// # Errors
///
/// A `JsError` (thrown in JavaScript) when `input` is not a `SomeDataStruct`: not an object, or a
/// field missing or of the wrong type. Fields the record does not have are ignored.
#[wasm_bindgen(unchecked_return_type = "SomeDataStruct")]
pub fn transform(
    #[wasm_bindgen(unchecked_param_type = "SomeDataStruct")] input: JsValue,
) -> Result<JsValue, JsError> {
    let record: SomeDataStruct = serde_wasm_bindgen::from_value(input)?;
    Ok(serde_wasm_bindgen::to_value(&boundary_kernel::transform(
        record,
    ))?)
}
