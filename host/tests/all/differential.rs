//! Native Rust, the component path and the raw path must agree on every record.

use boundary_host::{SomeDataStruct, native_button_text, native_transform};
use proptest::prelude::*;

use crate::{block_on, instances};

/// Runs one record through all three and checks they agree; returns the common output.
fn check(
    rt: &tokio::runtime::Runtime,
    component: &mut boundary_host::ComponentInstance,
    raw: &mut boundary_host::RawInstance,
    input: &SomeDataStruct,
) -> Result<SomeDataStruct, TestCaseError> {
    let native = native_transform(input.clone());
    let from_component = rt
        .block_on(component.transform(input))
        .map_err(|e| TestCaseError::fail(format!("component: {e}")))?
        .value;
    let from_raw = rt
        .block_on(raw.transform(input))
        .map_err(|e| TestCaseError::fail(format!("raw: {e}")))?
        .value;
    prop_assert_eq!(&from_component, &native);
    prop_assert_eq!(&from_raw, &native);
    Ok(native)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

/// Strings that include the empty string, ASCII, 2-, 3- and 4-byte UTF-8.
fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9 ]{0,24}",
        "\\PC{0,24}",
        "[ä€😀𝄞🦀]{1,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn paths_agree_on_generated_records(
        name in any_name(),
        names in proptest::collection::vec(any_name(), 0..40),
    ) {
        // One instance per path for the whole run: reuse is part of what is tested.
        thread_local! {
            static STATE: std::cell::RefCell<Option<(tokio::runtime::Runtime, boundary_host::ComponentInstance, boundary_host::RawInstance)>> = const { std::cell::RefCell::new(None) };
        }
        STATE.with(|state| {
            let mut state = state.borrow_mut();
            let (rt, component, raw) = state.get_or_insert_with(|| {
                let rt = runtime();
                let (c, r) = rt.block_on(instances());
                (rt, c, r)
            });
            let input = SomeDataStruct { name, names };
            let out = check(rt, component, raw, &input)?;
            prop_assert_eq!(out.names.len(), input.names.len() + 1);
            Ok(())
        })?;
    }
}

#[test]
fn edge_records_agree() {
    let rt = runtime();
    let (mut component, mut raw) = rt.block_on(instances());
    let cases = [
        SomeDataStruct::example(),
        SomeDataStruct::default(),
        SomeDataStruct {
            name: String::new(),
            names: vec![String::new(); 3],
        },
        SomeDataStruct {
            name: "Grüße, 世界 🦀".into(),
            names: vec!["𝄞".into(), "é".into(), "\u{0}".into()],
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
    ];
    for input in &cases {
        let out = check(&rt, &mut component, &mut raw, input).unwrap();
        assert_eq!(out.names.last().map(String::as_str), Some("new name"));
        assert_eq!(out.name, input.name);
    }
}

#[test]
fn button_text_agrees_on_every_case() {
    let cases = [
        ("PENDING", "edit"),
        ("pending", "edit"),
        ("Pending", "edit"),
        ("DONE", "delete"),
        ("done", "delete"),
        ("dOnE", "delete"),
        ("", "an error has occurred"),
        ("PENDING!", "an error has occurred"),
        (" DONE", "an error has occurred"),
        ("ǅONE", "an error has occurred"),
        ("🦀", "an error has occurred"),
    ];
    block_on(async {
        let (mut component, mut raw) = instances().await;
        for (status, label) in cases {
            assert_eq!(native_button_text(status), label, "native, {status:?}");
            let c = component.button_text(status).await.unwrap().value;
            let r = raw.button_text(status).await.unwrap().value;
            assert_eq!(c, label, "component, {status:?}");
            assert_eq!(r, label, "raw, {status:?}");
        }
    });
}

#[test]
fn traffic_is_counted_per_call() {
    block_on(async {
        let (mut component, mut raw) = instances().await;
        let input = SomeDataStruct::example();
        let raw_call = raw.transform(&input).await.unwrap();
        // ns_malloc, entry_point, and three ns_free calls.
        assert_eq!(raw_call.traffic.guest_calls, 5);
        assert_eq!(
            raw_call.traffic.bytes_in,
            boundary_kernel::wire::encode(&input).unwrap().len() as u64
        );
        // The same again: counts are per call, not cumulative.
        assert_eq!(
            raw.transform(&input).await.unwrap().traffic,
            raw_call.traffic
        );

        let small = component.transform(&input).await.unwrap().traffic;
        let bigger = SomeDataStruct {
            names: vec!["n".into(); 12],
            ..input
        };
        let big = component.transform(&bigger).await.unwrap().traffic;
        // The canonical ABI places each string with its own cabi_realloc call.
        assert_eq!(big.guest_calls - small.guest_calls, 10);
    });
}
