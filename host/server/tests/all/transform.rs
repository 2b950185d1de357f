//! `POST /api/transform`: every registered path, its answers, and the status of each failure.

use std::time::Duration;

use axum::http::StatusCode;
use boundary_host::{
    AnyGuest, ComponentGuest, Limits, Load as _, Runtime, SomeDataStruct, native_transform,
};
use boundary_server::AppState;
use boundary_test_artifacts as fixtures;

use crate::support::{ROOMY, app, app_with, dist, get, path_names, post_json, todos, transform};

/// A record under the route's cap but over `--max-input-bytes` is the client's input, not a
/// server failure: `413` on every path, naming the limit, and the instance stays usable. An
/// output over `--max-output-bytes` is the guest's: `500`.
#[tokio::test]
async fn call_errors_are_mapped_by_whose_fault_they_are() {
    let dist = dist();
    let big = serde_json::to_vec(&SomeDataStruct {
        name: "x".repeat(1000),
        names: vec!["y".into()],
    })
    .expect("json");

    let limits = Limits {
        max_input_bytes: 256,
        ..Limits::default()
    };
    let app = app_with(dist.path(), limits).await;
    for path in path_names() {
        let uri = format!("/api/transform?path={path}");
        let reply = post_json(&app, &uri, big.clone()).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let message = reply.error();
        assert!(
            message.contains("256-byte input limit") && message.ends_with("(--max-input-bytes)"),
            "{path}: {message}"
        );
        // The refused input left the pool working.
        transform(&app, path, &SomeDataStruct::example()).await;
    }

    let limits = Limits {
        max_output_bytes: 200,
        ..Limits::default()
    };
    let app = app_with(dist.path(), limits).await;
    for path in path_names() {
        let uri = format!("/api/transform?path={path}");
        let reply = post_json(&app, &uri, big.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let message = reply.error();
        assert!(
            message.contains("200-byte output limit") && message.ends_with("(--max-output-bytes)"),
            "{path}: {message}"
        );
        // A fresh instance serves the next call.
        transform(&app, path, &SomeDataStruct::example()).await;
    }
}

#[tokio::test]
async fn transform_runs_every_registered_path_on_the_server() {
    let dist = dist();
    let app = app(dist.path()).await;
    let names = path_names();
    // The path-specific checks below are for these two; every path gets the generic ones.
    assert!(
        names.contains(&"component") && names.contains(&"raw"),
        "{names:?}"
    );
    let records = [
        SomeDataStruct::example(),
        SomeDataStruct::default(),
        SomeDataStruct {
            name: "Grüße, 世界 🦀".into(),
            names: vec!["𝄞".into(), String::new()],
        },
        SomeDataStruct {
            name: "é".repeat(512 * 1024),
            names: vec!["x".into(); 1000],
        },
    ];
    for record in &records {
        let expected = native_transform(record.clone());
        for &path in &names {
            let reply = transform(&app, path, record).await;
            assert_eq!(reply.path, path);
            assert_eq!(reply.output, expected, "{path}");
            assert!(reply.traffic.guest_calls >= 1, "{path}");
            assert!(reply.traffic.bytes_out > 0, "{path}");
            match path {
                "component" => assert_eq!(
                    reply.traffic.bytes_in,
                    boundary_host::component::canonical_size(record)
                ),
                "raw" => {
                    // ns_malloc, entry_point and three ns_free calls.
                    assert_eq!(reply.traffic.guest_calls, 5);
                    let encoded = boundary_kernel::wire::encode(record).expect("encodes");
                    assert_eq!(reply.traffic.bytes_in, encoded.len() as u64);
                }
                _ => {}
            }
        }
    }
    // Instances are reused: many calls in a row keep working.
    for &path in &names {
        for _ in 0..20 {
            let out = transform(&app, path, &SomeDataStruct::example()).await;
            assert_eq!(out.output, native_transform(SomeDataStruct::example()));
        }
    }
}

/// Many requests at once on every path, on a multi-thread runtime as `boundary serve` runs: each
/// gets its own instance from the pool, and every answer is right.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transforms_on_every_path_all_agree_with_native() {
    let dist = dist();
    let app = app(dist.path()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..48 {
        for path in path_names() {
            let app = app.clone();
            tasks.spawn(async move {
                let record = SomeDataStruct {
                    name: format!("request {i}"),
                    names: vec![path.to_owned(); i % 7],
                };
                let reply = transform(&app, path, &record).await;
                assert_eq!(reply.output, native_transform(record));
                assert_eq!(reply.path, path);
            });
        }
    }
    let mut done = 0;
    while let Some(result) = tasks.join_next().await {
        result.expect("a request task panicked");
        done += 1;
    }
    assert_eq!(done, 48 * path_names().len());
}

#[tokio::test]
async fn bad_transform_input_is_a_400_with_a_message() {
    let dist = dist();
    let app = app(dist.path()).await;
    let good = serde_json::to_string(&SomeDataStruct::example()).expect("json");
    for uri in [
        "/api/transform",
        "/api/transform?path=",
        "/api/transform?path=wasi",
        "/api/transform?path=RAW",
    ] {
        let reply = post_json(&app, uri, good.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        let message = reply.error();
        assert!(message.contains("path=component"), "{uri}: {message}");
        // Every registered path is offered.
        for path in path_names() {
            assert!(
                message.contains(&format!("?path={path}")),
                "{uri}: {message}"
            );
        }
    }
    for body in [
        "",
        "[]",
        r#"{"name":"a"}"#,
        r#"{"name":"a","names":"b"}"#,
        r#"{"name":1,"names":[]}"#,
    ] {
        let reply = post_json(&app, "/api/transform?path=component", body.to_owned()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body:?}");
        reply.error();
    }
    let reply = get(&app, "/api/transform?path=raw").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    reply.error();
}

/// A call that runs past the deadline is a 504 whose message names the deadline and its flag;
/// the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transform_past_the_deadline_is_a_504_naming_the_flag() {
    let dist = dist();
    let limits = Limits {
        deadline: Duration::from_millis(30),
        ..Limits::default()
    };
    let runtime = Runtime::new(limits).expect("engine");
    let registration = boundary_guests::path("component")
        .expect("the component path")
        .registration;
    let iloop = ComponentGuest::load(&runtime, fixtures::COMPONENT_ILOOP).expect("loads");
    let state = AppState::with_guests(vec![AnyGuest::new(registration, iloop)], ROOMY)
        .await
        .expect("button-text answers");
    let app = boundary_server::router(state, dist.path());
    for _ in 0..2 {
        let reply = post_json(
            &app,
            "/api/transform?path=component",
            serde_json::to_vec(&SomeDataStruct::example()).expect("json"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
        let message = reply.error();
        assert!(
            message.contains("30ms deadline") && message.ends_with("(--deadline-ms)"),
            "{message}"
        );
    }
    assert_eq!(todos(&app).await.len(), 3);
}
