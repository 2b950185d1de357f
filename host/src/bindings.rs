//! Host bindings generated from `wit/`, and the conversions to the kernel's types: the one wall
//! generated code stays behind. Nothing outside this module names a generated path.

wasmtime::component::bindgen!({
    world: "transformer",
    path: "../wit",
    exports: { default: async },
});

pub use boundary::kernel::types::SomeDataStruct as WitRecord;

/// The same world with synchronous exports, for callers that do not run an executor. It shares
/// the record type with the async bindings (`with:`), so the conversions below serve both.
pub mod sync {
    wasmtime::component::bindgen!({
        world: "transformer",
        path: "../wit",
        with: { "boundary:kernel/types": super::boundary::kernel::types },
    });
}

/// `some-data-struct` lowered straight from the host's record: the canonical ABI copies the
/// strings into guest memory from where they are, without the clone that converting to
/// [`WitRecord`] costs. Wasmtime type-checks it against the export like any other type.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lower)]
#[component(record)]
pub struct RecordRef<'a> {
    /// The record's `name`.
    pub name: &'a str,
    /// The record's `names`.
    pub names: &'a [String],
}

// Exhaustive destructuring: a field added to the WIT but not to the kernel's record (or the other
// way round) is a compile error here, so the ptr/len path's type cannot drift from the contract.
impl<'a> From<&'a boundary_kernel::SomeDataStruct> for RecordRef<'a> {
    fn from(record: &'a boundary_kernel::SomeDataStruct) -> Self {
        let boundary_kernel::SomeDataStruct { name, names } = record;
        Self { name, names }
    }
}

impl From<WitRecord> for boundary_kernel::SomeDataStruct {
    fn from(record: WitRecord) -> Self {
        let WitRecord { name, names } = record;
        Self { name, names }
    }
}

impl From<&boundary_kernel::SomeDataStruct> for WitRecord {
    fn from(record: &boundary_kernel::SomeDataStruct) -> Self {
        let boundary_kernel::SomeDataStruct { name, names } = record;
        Self {
            name: name.clone(),
            names: names.clone(),
        }
    }
}
