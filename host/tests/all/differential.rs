//! Native Rust and every registered path must agree on every record: the differential corpus.
//! A new path registered in `boundary-guests` is covered here without a change.

use boundary_host::{AnyInstance, Instance, SomeDataStruct, native_button_text, native_transform};
use boundary_kernel::strategies::{any_name, edge_records};
use proptest::prelude::*;

use crate::{block_on, every_path, every_path_with, instances};

/// One instance of every registered path, named.
type Paths = Vec<(&'static str, AnyInstance)>;

/// Runs one record through native Rust and every path and checks they agree; returns the common
/// output.
fn check(
    rt: &tokio::runtime::Runtime,
    paths: &mut [(&'static str, AnyInstance)],
    input: &SomeDataStruct,
) -> Result<SomeDataStruct, TestCaseError> {
    let native = native_transform(input.clone());
    for (name, instance) in paths {
        let output = rt
            .block_on(instance.transform(input))
            .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?
            .value;
        prop_assert_eq!(&output, &native, "path {}", name);
    }
    Ok(native)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
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
            static STATE: std::cell::RefCell<Option<(tokio::runtime::Runtime, Paths)>> = const { std::cell::RefCell::new(None) };
        }
        STATE.with(|state| {
            let mut state = state.borrow_mut();
            let (rt, paths) = state.get_or_insert_with(|| {
                let rt = runtime();
                let paths = rt.block_on(every_path());
                (rt, paths)
            });
            let input = SomeDataStruct { name, names };
            let out = check(rt, paths, &input)?;
            prop_assert_eq!(out.names.len(), input.names.len() + 1);
            Ok(())
        })?;
    }
}

#[test]
fn edge_records_agree() {
    let rt = runtime();
    let mut paths = rt.block_on(every_path());
    let cases = edge_records();
    for input in &cases {
        let out = check(&rt, &mut paths, input).unwrap();
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
        let mut paths = every_path().await;
        for (status, label) in cases {
            assert_eq!(native_button_text(status), label, "native, {status:?}");
            for (name, instance) in &mut paths {
                let output = instance.button_text(status).await.unwrap().value;
                assert_eq!(output, label, "{name}, {status:?}");
            }
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

#[test]
fn with_call_counting_off_no_calls_are_counted_and_outputs_agree() {
    use boundary_host::Limits;
    block_on(async {
        let limits = Limits {
            count_guest_calls: false,
            ..Limits::default()
        };
        let input = SomeDataStruct::example();
        for (name, mut instance) in every_path_with(limits).await {
            let called = instance.transform(&input).await.unwrap();
            assert_eq!(called.value, native_transform(input.clone()), "{name}");
            assert_eq!(called.traffic.guest_calls, 0, "{name}");
            // Bytes are still counted: they need no hook.
            assert!(called.traffic.bytes_in > 0, "{name}");
        }
    });
}

#[test]
fn every_variant_of_every_path_agrees_with_native() {
    use boundary_guests::{PathVisitor, for_each_path};
    use boundary_host::{Load, Registration, Runtime};

    struct Check {
        runtime: Runtime,
        inputs: Vec<SomeDataStruct>,
        variants: usize,
    }
    impl PathVisitor for Check {
        fn visit<G: Load>(&mut self, registration: &Registration) {
            let guest = G::load(&self.runtime, registration.default_guest).unwrap();
            for variant in G::variants() {
                let mut call = (variant.prepare)(&guest)
                    .unwrap_or_else(|e| panic!("{}/{}: {e}", registration.name, variant.name));
                for input in &self.inputs {
                    let output = call(input)
                        .unwrap_or_else(|e| panic!("{}/{}: {e}", registration.name, variant.name));
                    assert_eq!(
                        output.value,
                        native_transform(input.clone()),
                        "{}/{}",
                        registration.name,
                        variant.name
                    );
                }
                self.variants += 1;
            }
        }
    }
    let mut check = Check {
        runtime: Runtime::new(Default::default()).unwrap(),
        inputs: vec![
            SomeDataStruct::example(),
            SomeDataStruct::default(),
            SomeDataStruct {
                name: "Grüße 🦀".into(),
                names: (0..300).map(|i| format!("n{i}")).collect(),
            },
        ],
        variants: 0,
    };
    for_each_path(&mut check);
    assert!(check.variants >= 8, "only {} variants ran", check.variants);
}
