//! Hostile guests (`host/artifacts/fixtures/*.wat`, assembled by `boundary-test-artifacts`):
//! every one gets a typed error, without a panic, within twice the deadline, with a bounded host
//! allocation, and the next call gets a fresh instance. Every fixture is used by a test here.

use std::time::{Duration, Instant};

use boundary_host::{
    CallError, ComponentGuest, Guest, Instance, Limits, Load, LoadError, Pool, RawGuest, Runtime,
    SomeDataStruct,
};
use boundary_kernel::wire::GuestError;
use boundary_test_artifacts as fixtures;

use crate::{allocated_during, block_on};

const DEADLINE: Duration = Duration::from_millis(250);
const MEMORY: usize = 8 << 20;

fn runtime() -> Runtime {
    Runtime::new(Limits {
        deadline: DEADLINE,
        max_memory_bytes: MEMORY,
        ..Limits::default()
    })
    .unwrap()
}

/// What a fixture's first call returned, how long it took, and what the host allocated for it.
struct Outcome {
    error: CallError,
    elapsed: Duration,
    allocated: u64,
}

/// Calls `transform` twice on a fixture of path `G` through a [`Pool`]. Both calls must fail,
/// and the second must have run on a fresh instance unless the first error keeps it.
fn fails<G: Load>(bytes: &[u8]) -> Outcome {
    block_on(async {
        let runtime = runtime();
        let pool = Pool::new(G::load(&runtime, bytes).unwrap(), 1);
        let input = SomeDataStruct::example();
        let start = Instant::now();
        let (result, allocated) = allocated_during(pool.transform(&input)).await;
        let elapsed = start.elapsed();
        let error = result.expect_err("a hostile guest must fail");
        let reusable = error.instance_is_reusable();
        assert!(pool.transform(&input).await.is_err());
        let expected_instances = if reusable { 1 } else { 2 };
        assert_eq!(
            pool.guest().instances_created(),
            expected_instances,
            "after {error}"
        );
        still_works(&runtime).await;
        Outcome {
            error,
            elapsed,
            allocated,
        }
    })
}

fn raw_fails(bytes: &[u8]) -> Outcome {
    fails::<RawGuest>(bytes)
}

fn component_fails(bytes: &[u8]) -> Outcome {
    fails::<ComponentGuest>(bytes)
}

/// The engine that ran a hostile guest still runs every path's real guest.
async fn still_works(runtime: &Runtime) {
    let input = SomeDataStruct::example();
    let expected = boundary_host::native_transform(input.clone());
    for path in boundary_guests::paths() {
        let guest = path.load_default(runtime).unwrap();
        let output = guest.instantiate().await.unwrap().transform(&input).await;
        assert_eq!(output.unwrap().value, expected, "{}", path.name());
    }
}

/// A pool of one instance of the default guest of path `G`.
fn default_pool<G: Load>(runtime: &Runtime, bytes: &[u8]) -> Pool<G> {
    Pool::new(G::load(runtime, bytes).unwrap(), 1)
}

#[test]
fn every_fixture_is_exercised_by_a_test() {
    let source = include_str!("hostile.rs");
    for (stem, _) in fixtures::ALL {
        let constant = format!("fixtures::{}", stem.to_uppercase());
        assert!(
            source.matches(&constant).count() >= 1,
            "no test uses {constant}"
        );
    }
}

#[test]
fn an_infinite_loop_times_out_within_twice_the_deadline() {
    for outcome in [
        raw_fails(fixtures::RAW_ILOOP),
        component_fails(fixtures::COMPONENT_ILOOP),
    ] {
        assert!(
            matches!(outcome.error, CallError::Timeout { deadline } if deadline == DEADLINE),
            "{}",
            outcome.error
        );
        assert!(outcome.elapsed < 2 * DEADLINE, "took {:?}", outcome.elapsed);
        assert!(outcome.error.to_string().contains("deadline"));
    }
}

#[test]
fn deep_recursion_overflows_the_wasm_stack() {
    let outcome = raw_fails(fixtures::RAW_RECURSION);
    assert!(
        matches!(outcome.error, CallError::StackOverflow { max_wasm_stack } if max_wasm_stack == 512 << 10),
        "{}",
        outcome.error
    );
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    for outcome in [
        raw_fails(fixtures::RAW_MEMORY_BOMB),
        component_fails(fixtures::COMPONENT_MEMORY_BOMB),
    ] {
        assert!(
            matches!(outcome.error, CallError::MemoryLimit { limit, .. } if limit == MEMORY),
            "{}",
            outcome.error
        );
    }
}

#[test]
fn unreachable_is_a_trap() {
    for outcome in [
        raw_fails(fixtures::RAW_UNREACHABLE),
        component_fails(fixtures::COMPONENT_UNREACHABLE),
    ] {
        assert!(
            matches!(&outcome.error, CallError::Trap(m) if m.contains("unreachable")),
            "{}",
            outcome.error
        );
    }
}

#[test]
fn an_out_of_bounds_result_region_is_refused() {
    let outcome = raw_fails(fixtures::RAW_RESULT_OOB);
    assert!(
        matches!(
            outcome.error,
            CallError::OutOfBounds {
                what: "the result region",
                ptr: 65532,
                len: 8,
                memory_size: 65536
            }
        ),
        "{}",
        outcome.error
    );
}

#[test]
fn a_length_of_u32_max_is_refused_before_allocating() {
    let outcome = raw_fails(fixtures::RAW_LEN_MAX);
    assert!(
        matches!(
            outcome.error,
            CallError::OutputTooLarge {
                len: Some(0xffff_ffff),
                ..
            }
        ),
        "{}",
        outcome.error
    );
    assert!(
        outcome.allocated < 256 << 10,
        "the host allocated {} bytes",
        outcome.allocated
    );

    // The counter does see real allocations: a 1 MiB output costs at least 1 MiB.
    block_on(async {
        let raw = default_pool::<RawGuest>(&runtime(), boundary_guests::CORE_MODULE);
        let big = SomeDataStruct {
            name: "x".repeat(1 << 20),
            names: vec![],
        };
        let (result, allocated) = allocated_during(raw.transform(&big)).await;
        result.unwrap();
        assert!(allocated >= 1 << 20, "counted only {allocated} bytes");
    });
}

#[test]
fn a_wrapping_pointer_and_length_is_out_of_bounds() {
    let outcome = raw_fails(fixtures::RAW_WRAPPING);
    assert!(
        matches!(
            outcome.error,
            CallError::OutOfBounds {
                what: "the output",
                ptr: 0xffff_fff0,
                len: 0x20,
                ..
            }
        ),
        "{}",
        outcome.error
    );
}

#[test]
fn a_misaligned_result_region_is_refused() {
    let outcome = raw_fails(fixtures::RAW_MISALIGNED);
    assert!(
        matches!(outcome.error, CallError::Misaligned { ptr: 514, align: 4 }),
        "{}",
        outcome.error
    );
}

#[test]
fn ns_malloc_returning_zero_or_out_of_bounds_is_refused() {
    let outcome = raw_fails(fixtures::RAW_MALLOC_ZERO);
    assert!(
        matches!(outcome.error, CallError::AllocFailed { size: 19 }),
        "{}",
        outcome.error
    );
    let outcome = raw_fails(fixtures::RAW_MALLOC_OOB);
    assert!(
        matches!(
            outcome.error,
            CallError::OutOfBounds {
                what: "the input buffer from ns_malloc",
                ptr: 0xffff_0000,
                ..
            }
        ),
        "{}",
        outcome.error
    );
}

#[test]
fn garbage_output_and_huge_length_prefixes_fail_to_decode_without_allocating() {
    for fixture in [fixtures::RAW_GARBAGE_OUTPUT, fixtures::RAW_HUGE_PREFIX] {
        let outcome = raw_fails(fixture);
        assert!(
            matches!(outcome.error, CallError::Decode { .. }),
            "{}",
            outcome.error
        );
        assert!(
            outcome.allocated < 256 << 10,
            "the host allocated {} bytes",
            outcome.allocated
        );
    }
}

#[test]
fn a_huge_list_in_a_component_result_is_refused_without_allocating() {
    let outcome = component_fails(fixtures::COMPONENT_HUGE_LIST);
    assert!(
        matches!(outcome.error, CallError::Trap(_)),
        "{}",
        outcome.error
    );
    assert!(
        outcome.allocated < 256 << 10,
        "the host allocated {} bytes",
        outcome.allocated
    );
}

#[test]
fn an_error_the_guest_reports_keeps_the_instance() {
    let outcome = raw_fails(fixtures::RAW_GUEST_ERROR);
    assert!(
        matches!(&outcome.error, CallError::Guest(GuestError::Decode { message }) if message == "nope"),
        "{}",
        outcome.error
    );
}

#[test]
fn missing_and_mistyped_exports_and_other_worlds_are_load_errors() {
    let rt = runtime();
    assert!(
        matches!(RawGuest::load(&rt, fixtures::RAW_MISSING_EXPORTS), Err(LoadError::MissingExport { name, .. }) if name == "ns_malloc")
    );
    assert!(
        matches!(RawGuest::load(&rt, fixtures::RAW_WRONG_SIGNATURE), Err(LoadError::WrongExportType { name, .. }) if name == "ns_malloc")
    );
    assert!(
        matches!(ComponentGuest::load(&rt, fixtures::COMPONENT_OTHER_WORLD), Err(LoadError::MissingExport { name, .. }) if name == "transform")
    );
    // The types are wasmtime's to check against the bindings; its message names the export.
    match ComponentGuest::load(&rt, fixtures::COMPONENT_WRONG_SIGNATURE) {
        Err(error @ LoadError::WorldMismatch { .. }) => {
            let line = boundary_host::error::one_line(&error);
            assert!(line.contains("button-text"), "{line}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ComponentGuest::load(&rt, fixtures::RAW_ILOOP),
        Err(LoadError::WrongKind { .. })
    ));
    assert!(matches!(
        RawGuest::load(&rt, fixtures::COMPONENT_ILOOP),
        Err(LoadError::WrongKind { .. })
    ));
}

#[test]
fn after_a_limit_the_next_call_gets_a_fresh_instance_and_succeeds() {
    block_on(async {
        let runtime = Runtime::new(Limits {
            max_memory_bytes: 4 << 20,
            ..Limits::default()
        })
        .unwrap();
        let big = SomeDataStruct {
            name: "x".repeat(6 << 20),
            names: vec![],
        };
        let small = SomeDataStruct::example();
        let raw = default_pool::<RawGuest>(&runtime, boundary_guests::CORE_MODULE);
        let component = default_pool::<ComponentGuest>(&runtime, boundary_guests::COMPONENT);

        let error = raw.transform(&big).await.unwrap_err();
        assert!(
            matches!(
                error,
                CallError::AllocFailed { .. } | CallError::MemoryLimit { .. }
            ),
            "{error}"
        );
        assert_eq!(
            raw.transform(&small).await.unwrap().value,
            boundary_host::native_transform(small.clone())
        );
        assert_eq!(raw.guest().instances_created(), 2);

        let error = component.transform(&big).await.unwrap_err();
        assert!(matches!(error, CallError::MemoryLimit { .. }), "{error}");
        assert_eq!(
            component.transform(&small).await.unwrap().value,
            boundary_host::native_transform(small.clone())
        );
        assert_eq!(component.guest().instances_created(), 2);
    });
}

#[test]
fn fuel_is_a_deterministic_limit() {
    block_on(async {
        let runtime = Runtime::new(Limits {
            fuel: Some(10_000),
            ..Limits::default()
        })
        .unwrap();
        let raw = default_pool::<RawGuest>(&runtime, fixtures::RAW_ILOOP);
        let error = raw.transform(&SomeDataStruct::example()).await.unwrap_err();
        assert!(
            matches!(error, CallError::OutOfFuel { fuel: 10_000 }),
            "{error}"
        );
        // The real guest fits comfortably in the same budget.
        let raw = default_pool::<RawGuest>(&runtime, boundary_guests::CORE_MODULE);
        raw.transform(&SomeDataStruct::example()).await.unwrap();
    });
}

#[test]
fn input_over_the_cap_is_refused_before_the_call() {
    block_on(async {
        let runtime = Runtime::new(Limits {
            max_input_bytes: 1024,
            ..Limits::default()
        })
        .unwrap();
        let big = SomeDataStruct {
            name: "x".repeat(2048),
            names: vec![],
        };
        let raw = default_pool::<RawGuest>(&runtime, boundary_guests::CORE_MODULE);
        let component = default_pool::<ComponentGuest>(&runtime, boundary_guests::COMPONENT);
        for error in [
            raw.transform(&big).await.unwrap_err(),
            component.transform(&big).await.unwrap_err(),
        ] {
            assert!(
                matches!(error, CallError::InputTooLarge { max: 1024, .. }),
                "{error}"
            );
        }
        // Refused before any guest code ran, so the instance was kept.
        assert_eq!(raw.guest().instances_created(), 1);
        assert_eq!(component.guest().instances_created(), 1);
    });
}

mod inputs {
    //! Hostile inputs to the real raw guest, through its ABI: refused through the error
    //! channel, never with a trap, and the instance stays usable.

    use super::*;
    use proptest::prelude::*;

    fn rejects(
        raw: &mut boundary_host::RawInstance,
        rt: &tokio::runtime::Runtime,
        bytes: &[u8],
    ) -> Result<GuestError, TestCaseError> {
        match rt.block_on(raw.transform_bytes(bytes)) {
            Err(CallError::Guest(error)) => Ok(error),
            Ok(called) => {
                // Random bytes can be a valid record; then it must be transformed correctly.
                let decoded: SomeDataStruct =
                    boundary_kernel::wire::decode_exact(bytes).map_err(|e| {
                        TestCaseError::fail(format!(
                            "the guest accepted bytes that do not decode: {e}"
                        ))
                    })?;
                prop_assert_eq!(called.value, boundary_host::native_transform(decoded));
                Err(TestCaseError::reject("the bytes were a valid record"))
            }
            Err(other) => Err(TestCaseError::fail(format!(
                "not through the error channel: {other}"
            ))),
        }
    }

    fn setup() -> (tokio::runtime::Runtime, boundary_host::RawInstance) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let raw = rt.block_on(async {
            RawGuest::load(&runtime(), boundary_guests::CORE_MODULE)
                .unwrap()
                .instantiate()
                .await
                .unwrap()
        });
        (rt, raw)
    }

    #[test]
    fn huge_length_prefixes_and_trailing_bytes_are_refused_through_the_abi() {
        let (rt, mut raw) = setup();
        let cases: [(&[u8], &str); 4] = [
            (
                &[0xff, 0xff, 0xff, 0xff, 0x0f],
                "name claims u32::MAX bytes",
            ),
            (
                &[0x00, 0xff, 0xff, 0xff, 0xff, 0x0f],
                "names claims u32::MAX entries",
            ),
            (&[0x00, 0x00, 0x00], "one trailing byte"),
            (&[0x02, 0xc3, 0x28, 0x00], "invalid UTF-8"),
        ];
        for (bytes, what) in cases {
            let error = rejects(&mut raw, &rt, bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
            match what {
                "one trailing byte" => assert_eq!(error, GuestError::TrailingBytes { count: 1 }),
                _ => assert!(
                    matches!(error, GuestError::Decode { .. }),
                    "{what}: {error}"
                ),
            }
        }
        // The same instance still transforms.
        let out = rt
            .block_on(raw.transform(&SomeDataStruct::example()))
            .unwrap();
        assert_eq!(out.value.names.len(), 3);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn random_bytes_never_trap(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            thread_local! {
                static STATE: std::cell::RefCell<Option<(tokio::runtime::Runtime, boundary_host::RawInstance)>> = const { std::cell::RefCell::new(None) };
            }
            STATE.with(|state| {
                let mut state = state.borrow_mut();
                let (rt, raw) = state.get_or_insert_with(setup);
                match rejects(raw, rt, &bytes) {
                    Ok(_) => Ok(()),
                    Err(TestCaseError::Reject(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            })?;
        }
    }
}
