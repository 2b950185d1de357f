//! The one instance pool every caller uses, over concrete and erased guests.

use boundary_host::{
    CallError, Guest, Instance, Limits, Load, Pool, RawGuest, Runtime, SomeDataStruct,
};
use boundary_test_artifacts as fixtures;

use crate::block_on;

#[test]
fn sequential_calls_reuse_one_instance_on_every_path() {
    block_on(async {
        let runtime = Runtime::new(Limits::default()).unwrap();
        for path in boundary_guests::paths() {
            let pool = Pool::new(path.load_default(&runtime).unwrap(), 4);
            for _ in 0..5 {
                let out = pool.transform(&SomeDataStruct::example()).await.unwrap();
                assert_eq!(out.value.names.len(), 3, "{}", path.name());
                assert_eq!(pool.button_text("DONE").await.unwrap().value, "delete");
            }
            assert_eq!(pool.guest().instances_created(), 1, "{}", path.name());
            assert_eq!(pool.idle_count(), 1);
        }
    });
}

#[test]
fn concurrent_calls_get_their_own_instances_and_at_most_max_idle_are_kept() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let runtime = Runtime::new(Limits::default()).unwrap();
        let guest = boundary_guests::paths()[0].load_default(&runtime).unwrap();
        let pool = std::sync::Arc::new(Pool::new(guest, 2));
        // A record large enough that calls overlap.
        let input = SomeDataStruct {
            name: "n".into(),
            names: vec!["x".repeat(64); 20_000],
        };
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                let input = input.clone();
                tokio::spawn(
                    async move { pool.transform(&input).await.map(|c| c.value.names.len()) },
                )
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 20_001);
        }
        assert!(pool.idle_count() <= 2, "kept {}", pool.idle_count());
        assert!(pool.guest().instances_created() >= 1);
    });
}

#[test]
fn an_error_the_guest_reports_keeps_the_instance_and_a_trap_drops_it() {
    block_on(async {
        let runtime = Runtime::new(Limits::default()).unwrap();
        let reported = Pool::new(
            RawGuest::load(&runtime, fixtures::RAW_GUEST_ERROR).unwrap(),
            1,
        );
        for _ in 0..3 {
            let error = reported
                .transform(&SomeDataStruct::example())
                .await
                .unwrap_err();
            assert!(matches!(error, CallError::Guest(_)), "{error}");
        }
        assert_eq!(reported.guest().instances_created(), 1);

        let trapping = Pool::new(
            RawGuest::load(&runtime, fixtures::RAW_UNREACHABLE).unwrap(),
            1,
        );
        for _ in 0..3 {
            let error = trapping
                .transform(&SomeDataStruct::example())
                .await
                .unwrap_err();
            assert!(matches!(error, CallError::Trap(_)), "{error}");
        }
        assert_eq!(trapping.guest().instances_created(), 3);
        assert_eq!(trapping.idle_count(), 0);
    });
}

#[test]
fn the_reuse_rule_is_the_error_types() {
    block_on(async {
        let runtime = Runtime::new(Limits::default()).unwrap();
        let guest = RawGuest::load(&runtime, boundary_guests::CORE_MODULE).unwrap();
        let instance = guest.instantiate().await.unwrap();
        let errors = [
            CallError::InputTooLarge { len: 2, max: 1 },
            CallError::Trap("x".into()),
            CallError::OutputTooLarge { len: None, max: 1 },
        ];
        for error in errors {
            assert_eq!(
                instance.is_reusable_after(&error),
                error.instance_is_reusable(),
                "{error}"
            );
        }
    });
}
