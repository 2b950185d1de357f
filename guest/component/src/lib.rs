//! The `transformer` world as a component.
//!
//! Built with plain cargo for `wasm32-unknown-unknown` and turned into a component by the host's
//! build script (`wit-component`, the library behind `wasm-tools component new`), so it imports
//! nothing. The logic is the shared kernel's; this crate only converts at the WIT wall.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "transformer",
    });
}

use bindings::boundary::kernel::types::SomeDataStruct as WitRecord;
use boundary_kernel::SomeDataStruct;

/// The guest's implementation of the world.
#[derive(Debug)]
pub struct Transformer;

impl bindings::Guest for Transformer {
    fn transform(input: WitRecord) -> WitRecord {
        to_wit(boundary_kernel::transform(from_wit(input)))
    }

    fn button_text(status: String) -> String {
        boundary_kernel::button_text(&status).to_owned()
    }
}

// Exhaustive destructuring on both sides: a field added to the WIT but not to the kernel (or the
// other way round) stops this crate from compiling.
fn from_wit(record: WitRecord) -> SomeDataStruct {
    let WitRecord { name, names } = record;
    SomeDataStruct { name, names }
}

fn to_wit(record: SomeDataStruct) -> WitRecord {
    let SomeDataStruct { name, names } = record;
    WitRecord { name, names }
}

bindings::export!(Transformer with_types_in bindings);
