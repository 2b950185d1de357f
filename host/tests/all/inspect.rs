//! `inspect` on the embedded guests, and on components of other worlds.

use boundary_guests as embedded;
use boundary_host::inspect::{Inspection, WasmKind};
use boundary_host::{ComponentGuest, Load, LoadError, Runtime};
use boundary_test_artifacts as fixtures;

fn runtime() -> Runtime {
    Runtime::new(Default::default()).unwrap()
}

#[test]
fn the_component_has_exactly_the_two_exports_and_no_imports() {
    let report = Inspection::of(&runtime(), embedded::COMPONENT).unwrap();
    assert_eq!(report.kind, WasmKind::Component);
    assert_eq!(report.size, embedded::COMPONENT.len());
    assert!(report.imports.is_empty(), "imports: {:?}", report.imports);
    let exports: Vec<(&str, &str)> = report
        .exports
        .iter()
        .map(|e| (e.name.as_str(), e.ty.as_str()))
        .collect();
    assert_eq!(
        exports,
        [
            (
                "transform",
                "func(input: record { name: string, names: list<string> }) -> record { name: string, names: list<string> }"
            ),
            ("button-text", "func(status: string) -> string"),
        ]
    );
    // The only import is the interface the world `use`s its record from, and it holds a type.
    let type_imports: Vec<(&str, &str)> = report
        .type_imports
        .iter()
        .map(|e| (e.name.as_str(), e.ty.as_str()))
        .collect();
    assert_eq!(
        type_imports,
        [("boundary:kernel/types@0.1.0", "types { some-data-struct }")]
    );
}

#[test]
fn the_core_module_shows_the_ptr_len_exports_and_no_imports() {
    let report = Inspection::of(&runtime(), embedded::CORE_MODULE).unwrap();
    assert_eq!(report.kind, WasmKind::CoreModule);
    assert!(report.imports.is_empty(), "imports: {:?}", report.imports);
    let find = |name: &str| {
        report
            .exports
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.ty.as_str())
    };
    assert_eq!(find("ns_malloc"), Some("func(i32, i32) -> i32"));
    assert_eq!(find("ns_free"), Some("func(i32, i32, i32)"));
    assert_eq!(find("entry_point"), Some("func(i32, i32) -> i32"));
    assert_eq!(find("button_text"), Some("func(i32, i32) -> i32"));
    assert!(find("memory").is_some_and(|ty| ty.starts_with("memory(")));
}

#[test]
fn components_of_other_worlds_are_refused_with_the_reason() {
    let rt = runtime();
    let other = fixtures::COMPONENT_OTHER_WORLD;
    match ComponentGuest::load(&rt, other) {
        Err(LoadError::MissingExport { name, .. }) => assert_eq!(name, "transform"),
        other => panic!("expected a missing export, got {other:?}"),
    }
    let wrong = fixtures::COMPONENT_WRONG_SIGNATURE;
    match ComponentGuest::load(&rt, wrong) {
        Err(error @ LoadError::WorldMismatch { .. }) => {
            let line = boundary_host::error::one_line(&error);
            assert!(line.contains("`button-text`"), "{line}");
            assert!(line.contains("func(status: u32) -> string"), "{line}");
        }
        other => panic!("expected a world mismatch, got {other:?}"),
    }
    // And inspect still describes them.
    let report = Inspection::of(&rt, other).unwrap();
    assert_eq!(report.exports.len(), 1);
    assert_eq!(report.exports[0].ty, "func() -> u32");
}
