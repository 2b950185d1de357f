//! proptest strategies for the differential corpus (feature `proptest`): the records every path
//! must agree with native Rust on.

use proptest::prelude::*;

use crate::SomeDataStruct;

/// Strings that include the empty string, ASCII, and 2-, 3- and 4-byte UTF-8.
pub fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9 ]{0,24}",
        "\\PC{0,24}",
        "[ä€😀𝄞🦀]{1,8}",
    ]
}

/// Records that stress a boundary: the seed's example, empty ones, non-ASCII, NUL and JSON
/// escapes, 10,000 names, a 1 MiB name of 2-byte characters and one of ASCII. The host's
/// differential test and the peers' tests run them all.
pub fn edge_records() -> Vec<SomeDataStruct> {
    vec![
        SomeDataStruct::example(),
        SomeDataStruct::default(),
        SomeDataStruct {
            name: String::new(),
            names: vec![String::new(); 3],
        },
        SomeDataStruct {
            name: "Grüße, 世界 🦀".into(),
            names: vec!["𝄞".into(), "é".into(), "\u{0}".into(), "\"\\\n".into()],
        },
        SomeDataStruct {
            name: "many".into(),
            names: (0..10_000).map(|i| format!("name-{i:05}")).collect(),
        },
        SomeDataStruct {
            name: "é".repeat(512 * 1024),
            names: vec!["x".into()],
        },
        SomeDataStruct {
            name: "x".repeat(1 << 20),
            names: vec![],
        },
    ]
}

/// Records of up to `max_names` names made of [`any_name`]s.
pub fn any_record(max_names: usize) -> impl Strategy<Value = SomeDataStruct> {
    (
        any_name(),
        proptest::collection::vec(any_name(), 0..=max_names),
    )
        .prop_map(|(name, names)| SomeDataStruct { name, names })
}

/// Statuses for `button_text`: the labelled ones in any ASCII case, near misses (a dotless ı, a
/// trailing space, a ǅ), and [`any_name`]s.
pub fn any_status() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["pending", "done"]).prop_flat_map(|word| {
            proptest::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
                word.chars()
                    .zip(upper)
                    .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                    .collect()
            })
        }),
        prop::sample::select(vec!["pendıng", "PENDING ", "ǅONE", " done", "DONEE"])
            .prop_map(str::to_owned),
        any_name(),
    ]
}
