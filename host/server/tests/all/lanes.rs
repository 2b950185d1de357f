//! The lanes in the server: calls that run at once, the large lane's priority, a full lane's
//! `503`, and small calls served beside large ones.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use boundary_host::SomeDataStruct;
use boundary_server::{Capacity, Lane};

use crate::support::{
    Latch, app_with_hook, assert_transformed, dist, large_record, path_names, post_json,
    spawn_transform, todos, transform, until,
};

/// Two large transforms run at the same time on the server's threads: each waits in the guest
/// call hook until both are there, which only happens if they run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_large_transforms_run_at_the_same_time() {
    let dist = dist();
    let latch = Arc::new(Latch::default());
    let hook = Arc::clone(&latch);
    let capacity = Capacity {
        max_in_flight: 2,
        queue_depth: 0,
    };
    let (app, state) = app_with_hook(dist.path(), capacity, move |_| hook.arrive_and_wait(2)).await;
    let body = serde_json::to_vec(&large_record(0)).expect("json");
    assert!(body.len() as u64 > boundary_server::SMALL_BODY);
    for path in path_names() {
        let tasks = [
            spawn_transform(&app, path, large_record(1)),
            spawn_transform(&app, path, large_record(2)),
        ];
        for task in tasks {
            let (record, reply) = task.await.expect("the request task");
            assert_transformed(record, &reply);
        }
    }
    let large = state.load(Lane::Large);
    assert_eq!(large.peak_running, 2, "{large:?}");
    assert_eq!((large.admitted, large.running, large.refused), (0, 0, 0));
    assert_eq!(state.load(Lane::Small).peak_running, 0);
}

/// The nice value of the calling thread, from `/proc/thread-self/stat` (field 19).
#[cfg(target_os = "linux")]
fn this_threads_nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
    after_name
        .split(' ')
        .nth(16)
        .expect("field 19")
        .parse()
        .expect("a nice value")
}

/// A large transform runs on a thread whose nice value is `LARGE_LANE_NICE` above a small
/// one's, so the kernel favours small requests when both want the cores.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_transforms_run_at_a_lower_priority_than_small_ones() {
    let dist = dist();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let (app, _state) = app_with_hook(dist.path(), Capacity::per_core(), move |lane| {
        record
            .lock()
            .expect("lock")
            .push((lane, this_threads_nice()));
    })
    .await;
    let (record, reply) = spawn_transform(&app, "component", large_record(0))
        .await
        .expect("task");
    assert_transformed(record, &reply);
    let small = SomeDataStruct {
        name: "small".to_owned(),
        names: vec!["a".to_owned()],
    };
    let (record, reply) = spawn_transform(&app, "component", small)
        .await
        .expect("task");
    assert_transformed(record, &reply);
    let seen = seen.lock().expect("lock").clone();
    let [(Lane::Large, large), (Lane::Small, small)] = seen[..] else {
        panic!("expected a large call, then a small one: {seen:?}");
    };
    assert_eq!(
        large,
        (small + boundary_server::LARGE_LANE_NICE).min(19),
        "{seen:?}"
    );
}

/// A full lane answers 503 with Retry-After at once, naming the flags, and serves again once a
/// running transform is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_lane_is_a_503_with_retry_after_and_the_server_recovers() {
    let dist = dist();
    let latch = Arc::new(Latch::default());
    let hook = Arc::clone(&latch);
    let capacity = Capacity {
        max_in_flight: 1,
        queue_depth: 1,
    };
    let (app, state) = app_with_hook(dist.path(), capacity, move |_| {
        hook.arrive_and_wait(usize::MAX);
    })
    .await;
    let record = |i: usize| SomeDataStruct {
        name: format!("small {i}"),
        names: vec!["a".into()],
    };
    // One runs (held in the hook), one waits for its turn.
    let running = spawn_transform(&app, "component", record(1));
    until(&state, Lane::Small, |load| load.running == 1).await;
    let waiting = spawn_transform(&app, "raw", record(2));
    until(&state, Lane::Small, |load| load.admitted == 2).await;

    // The third is refused at once, on any path.
    for path in path_names() {
        let reply = post_json(
            &app,
            &format!("/api/transform?path={path}"),
            serde_json::to_vec(&record(3)).expect("json"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(reply.retry_after.as_deref(), Some("1"), "{path}");
        let message = reply.error();
        for part in ["busy", "small lane", "--max-in-flight", "--queue-depth"] {
            assert!(message.contains(part), "{part}: {message}");
        }
    }
    // The to-do API is not a transform: it is not held back.
    assert_eq!(todos(&app).await.len(), 3);
    assert_eq!(state.load(Lane::Small).refused, path_names().len());

    latch.open();
    for task in [running, waiting] {
        let (record, reply) = task.await.expect("the request task");
        assert_transformed(record, &reply);
    }
    assert_eq!(state.load(Lane::Small).admitted, 0);
    for path in path_names() {
        transform(&app, path, &record(4)).await;
    }
}

/// Large transforms fill their lane (running and waiting, and one more refused); a small one
/// is still served, and answered before any large one finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_transform_is_served_while_large_ones_run() {
    let dist = dist();
    let latch = Arc::new(Latch::default());
    let hook = Arc::clone(&latch);
    let capacity = Capacity {
        max_in_flight: 2,
        queue_depth: 2,
    };
    let (app, state) = app_with_hook(dist.path(), capacity, move |lane| {
        if lane == Lane::Large {
            hook.arrive_and_wait(usize::MAX);
        }
    })
    .await;
    let large: Vec<_> = (0..4)
        .map(|i| spawn_transform(&app, path_names()[i % 2], large_record(i)))
        .collect();
    until(&state, Lane::Large, |load| {
        load.running == 2 && load.admitted == 4
    })
    .await;
    let refused = spawn_transform(&app, "component", large_record(4))
        .await
        .expect("the request task")
        .1;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.error().contains("large lane"));

    for path in path_names() {
        let (record, reply) = spawn_transform(&app, path, SomeDataStruct::example())
            .await
            .expect("the request task");
        assert_transformed(record, &reply);
    }
    assert!(large.iter().all(|task| !task.is_finished()));
    assert_eq!(state.load(Lane::Large).running, 2);

    latch.open();
    for task in large {
        let (record, reply) = task.await.expect("the request task");
        assert_transformed(record, &reply);
    }
    assert_eq!(state.load(Lane::Large).peak_running, 2);
}
