//! The contract as the embedded component carries it, against a checked-in snapshot.
//!
//! If `wit/` changes on purpose, regenerate with `BOUNDARY_BLESS=1 cargo test -p boundary-cli
//! --test all contract` and review the diff.

use std::path::Path;

use boundary_cli::commands::inspect::print_wit;

#[test]
fn the_embedded_component_implements_the_snapshotted_world() {
    let printed = print_wit(boundary_guests::COMPONENT).unwrap();
    let snapshot =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/snapshots/transformer.wit");
    if std::env::var_os("BOUNDARY_BLESS").is_some() {
        std::fs::write(&snapshot, &printed).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap();
    assert_eq!(
        printed, expected,
        "the component's world changed; see this module's docs"
    );
}
