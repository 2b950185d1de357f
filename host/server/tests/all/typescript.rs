//! The web's API types, generated from the server's serde types.

use std::path::Path;

use crate::support::path_names;

/// The web's API types are generated from the serde types (`web/src/api-types.ts`): the
/// committed file must be what they generate now.
#[test]
fn the_committed_typescript_api_types_are_current() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/src/api-types.ts");
    let generated = boundary_server::typescript_api();
    if std::env::var_os("BOUNDARY_BLESS").is_some() {
        std::fs::write(&file, &generated).expect("writes web/src/api-types.ts");
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == generated,
        "web/src/api-types.ts is not what the serde types in host/server/src/api.rs \
         generate; regenerate it with `BOUNDARY_BLESS=1 cargo test -p boundary-server --test all \
         typescript` and commit it.\n--- generated ---\n{generated}"
    );
    // Every type the web uses is declared, and the path names come from the registry.
    for name in [
        "Status",
        "Todo",
        "NewTodo",
        "TransformResponse",
        "ErrorBody",
        "PathName",
    ] {
        assert!(
            generated.contains(&format!("export type {name} = ")),
            "{name}"
        );
    }
    for path in path_names() {
        assert!(generated.contains(&format!("\"{path}\"")), "{path}");
    }
}
