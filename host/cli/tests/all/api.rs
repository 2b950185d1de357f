//! `boundary serve`: the to-do API, server-side transforms on every registered path and static
//! files, driven in-process; finding the web app, and the failures of the binary.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use boundary_cli::commands::serve::{
    self, AppState, Capacity, ErrorBody, Lane, Todo, TransformResponse,
};
use boundary_host::{
    AnyGuest, ComponentGuest, Limits, Load as _, Runtime, SomeDataStruct, native_transform,
};
use boundary_test_artifacts as fixtures;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// A fake `dist`: an index page and a hashed asset of each kind.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_dist(dir.path());
    dir
}

fn write_dist(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).expect("assets");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title>").expect("index");
    std::fs::write(dir.join("assets/index-Ab12Cd34.js"), "export {}").expect("js");
    std::fs::write(dir.join("assets/transformer.core-Ef56Gh78.wasm"), WASM).expect("wasm");
}

async fn app(dist: &Path) -> Router {
    app_with(dist, Limits::default()).await
}

/// Room for every request the tests send at once.
const ROOMY: Capacity = Capacity {
    max_in_flight: 2,
    queue_depth: 1000,
};

async fn app_with(dist: &Path, limits: Limits) -> Router {
    let runtime = Runtime::new(limits).expect("engine");
    let state = AppState::new(&runtime, ROOMY).await.expect("guests load");
    serve::router(state, dist)
}

/// The name of every registered path.
fn path_names() -> Vec<&'static str> {
    boundary_guests::paths().iter().map(|p| p.name()).collect()
}

struct Reply {
    status: StatusCode,
    content_type: Option<String>,
    cache_control: Option<String>,
    allow: Option<String>,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The message of an error reply, after checking its shape: `{"error": "..."}` and nothing
    /// else, as [`ErrorBody`] declares it, with each cause once.
    fn error(&self) -> String {
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        let json = self.json();
        let message = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {json}"))
            .to_owned();
        assert!(!message.is_empty());
        let body: ErrorBody = serde_json::from_value(json).expect("the error body");
        assert_eq!(body.error, message);
        assert_causes_once(&message);
        message
    }
}

/// No cause is repeated in a one-line message `a: b: c`.
fn assert_causes_once(message: &str) {
    let parts: Vec<&str> = message.split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].iter().any(|later| later == part),
            "{part:?} twice in {message:?}"
        );
    }
}

/// Sends one request, with its `Content-Length` as a client would (the server picks a
/// transform's lane by it).
async fn send(app: &Router, method: Method, uri: &str, body: Option<Vec<u8>>, json: bool) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if json {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    if let Some(body) = &body {
        request = request.header(header::CONTENT_LENGTH, body.len());
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let header = |name| {
        parts
            .headers
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().expect("ascii header").to_owned())
    };
    let (status, content_type, cache_control, allow, retry_after) = (
        parts.status,
        header(header::CONTENT_TYPE),
        header(header::CACHE_CONTROL),
        header(header::ALLOW),
        header(header::RETRY_AFTER),
    );
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        content_type,
        cache_control,
        allow,
        retry_after,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Method::GET, uri, None, false).await
}

async fn post_json(app: &Router, uri: &str, body: impl Into<Vec<u8>>) -> Reply {
    send(app, Method::POST, uri, Some(body.into()), true).await
}

async fn todos(app: &Router) -> Vec<Todo> {
    let reply = get(app, "/api/todos").await;
    assert_eq!(reply.status, StatusCode::OK);
    serde_json::from_slice(&reply.body).expect("a list of items")
}

#[tokio::test]
async fn todo_happy_path() {
    let dist = dist();
    let app = app(dist.path()).await;

    let seeded = todos(&app).await;
    assert!(!seeded.is_empty());
    let statuses: Vec<Value> = seeded
        .iter()
        .map(|t| serde_json::to_value(t.status).expect("status"))
        .collect();
    assert!(statuses.contains(&json!("PENDING")) && statuses.contains(&json!("DONE")));

    // Create: trimmed, pending, a fresh id, listed last.
    let reply = post_json(&app, "/api/todos", r#"{"title":"  Grüße 🦀  "}"#).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let created: Todo = serde_json::from_slice(&reply.body).expect("an item");
    assert_eq!(created.title, "Grüße 🦀");
    assert_eq!(
        serde_json::to_value(created.status).expect("status"),
        json!("PENDING")
    );
    assert!(seeded.iter().all(|t| t.id != created.id));
    let after_create = todos(&app).await;
    assert_eq!(after_create.len(), seeded.len() + 1);
    assert_eq!(after_create.last(), Some(&created));

    // Mark done: the reply and the list agree.
    let reply = send(
        &app,
        Method::POST,
        &format!("/api/todos/{}/done", created.id),
        None,
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "DONE");
    let done = todos(&app)
        .await
        .into_iter()
        .find(|t| t.id == created.id)
        .expect("still there");
    assert_eq!(
        serde_json::to_value(done.status).expect("status"),
        json!("DONE")
    );

    // Delete: gone, and a second delete is a 404.
    let uri = format!("/api/todos/{}", created.id);
    let reply = send(&app, Method::DELETE, &uri, None, false).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(todos(&app).await, seeded);
    let reply = send(&app, Method::DELETE, &uri, None, false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().contains(&created.id.to_string()));
}

#[tokio::test]
async fn bad_todo_input_is_a_400_with_a_message() {
    let dist = dist();
    let app = app(dist.path()).await;
    let before = todos(&app).await;
    let long = format!(
        r#"{{"title":"{}"}}"#,
        "é".repeat(serve::MAX_TITLE_CHARS + 1)
    );
    let cases: [(&str, &str); 8] = [
        ("not JSON", "{title:"),
        ("a JSON string", r#""a title""#),
        ("a missing title", "{}"),
        ("a title of the wrong type", r#"{"title":42}"#),
        ("an unknown field", r#"{"title":"a","done":true}"#),
        ("an empty title", r#"{"title":""}"#),
        ("a blank title", r#"{"title":"  \t "}"#),
        ("a title over the limit", &long),
    ];
    for (what, body) in cases {
        let reply = post_json(&app, "/api/todos", body.to_owned()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}");
        reply.error();
    }
    // Not declared as JSON.
    let reply = send(
        &app,
        Method::POST,
        "/api/todos",
        Some(r#"{"title":"a"}"#.into()),
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("Content-Type"), "{}", reply.error());
    // Ids that are not numbers.
    for uri in [
        "/api/todos/abc/done",
        "/api/todos/-1/done",
        "/api/todos/1.5/done",
    ] {
        let reply = send(&app, Method::POST, uri, None, false).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        reply.error();
    }
    let reply = send(
        &app,
        Method::DELETE,
        "/api/todos/99999999999999999999999",
        None,
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // Nothing was created or changed.
    assert_eq!(todos(&app).await, before);
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404s() {
    let dist = dist();
    let app = app(dist.path()).await;
    let reply = send(&app, Method::POST, "/api/todos/424242/done", None, false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().contains("424242"));
    let reply = send(&app, Method::DELETE, "/api/todos/424242", None, false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = get(&app, "/api/nothing-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    reply.error();
}

/// Bug 11: a 405 had an empty body instead of the documented `{"error": ...}`.
#[tokio::test]
async fn a_method_a_route_does_not_take_is_a_405_with_the_error_body() {
    let dist = dist();
    let app = app(dist.path()).await;
    let good = serde_json::to_string(&SomeDataStruct::example()).expect("json");
    // The two reported, then every API route with a method it does not take.
    let cases = [
        (Method::PUT, "/api/todos", "GET,HEAD,POST"),
        (Method::GET, "/api/transform?path=raw", "POST"),
        (Method::DELETE, "/api/todos", "GET,HEAD,POST"),
        (Method::GET, "/api/todos/1/done", "POST"),
        (Method::PATCH, "/api/todos/1", "DELETE"),
        (Method::PUT, "/api/transform?path=component", "POST"),
    ];
    for (method, uri, allowed) in cases {
        let reply = send(&app, method.clone(), uri, Some(good.clone().into()), true).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        let message = reply.error();
        let route = uri.split('?').next().expect("a path");
        assert!(
            message.contains(method.as_str()) && message.contains(route),
            "{method} {uri}: {message}"
        );
        assert_eq!(reply.allow.as_deref(), Some(allowed), "{method} {uri}");
        assert_eq!(reply.cache_control.as_deref(), Some("no-store"));
    }
    // Nothing changed.
    assert_eq!(todos(&app).await.len(), 3);
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let dist = dist();
    let app = app(dist.path()).await;
    let title = "x".repeat(serve::MAX_TODO_BODY);
    let reply = post_json(&app, "/api/todos", format!(r#"{{"title":"{title}"}}"#)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    reply.error();

    let record = SomeDataStruct {
        name: "x".repeat(serve::MAX_TRANSFORM_BODY),
        names: vec![],
    };
    let body = serde_json::to_vec(&record).expect("json");
    for path in path_names() {
        let reply = post_json(&app, &format!("/api/transform?path={path}"), body.clone()).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        reply.error();
    }
}

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

async fn transform(app: &Router, path: &str, record: &SomeDataStruct) -> TransformResponse {
    let body = serde_json::to_vec(record).expect("json");
    let reply = post_json(app, &format!("/api/transform?path={path}"), body).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).expect("a transform response")
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

/// Where guest calls wait in the tests below: each call that arrives is counted, then waits
/// until `open`, or until the group of `together` calls it belongs to (calls 1 and 2, 3 and 4,
/// ... for two) has arrived. A call that waits a minute panics, which the server answers with a
/// 500 the test sees.
#[derive(Default)]
struct Latch {
    /// Calls that arrived, and whether the latch is open.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Latch {
    /// Counts this call, then waits until the latch is open or its group has arrived.
    fn arrive_and_wait(&self, together: usize) {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        let group_end = state.0.div_ceil(together).saturating_mul(together);
        self.changed.notify_all();
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(60), |(arrived, open)| {
                !*open && *arrived < group_end
            })
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "{} guest calls arrived, {group_end} expected together",
            state.0
        );
    }

    fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// An app whose guest calls go through `hook` first, and its state.
async fn app_with_hook(
    dist: &Path,
    capacity: Capacity,
    hook: impl Fn(Lane) + Send + Sync + 'static,
) -> (Router, Arc<AppState>) {
    let runtime = Runtime::new(Limits::default()).expect("engine");
    let state = Arc::new(
        AppState::new(&runtime, capacity)
            .await
            .expect("guests load")
            .on_guest_call(hook),
    );
    (serve::router(Arc::clone(&state), dist), state)
}

/// Waits (a minute at most) until `lane` satisfies `what`.
async fn until(state: &AppState, lane: Lane, what: impl Fn(serve::LaneLoad) -> bool) {
    for _ in 0..60_000 {
        if what(state.load(lane)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the {lane:?} lane never got there: {:?}", state.load(lane));
}

/// A record whose JSON is over the small lane's bound.
fn large_record(i: usize) -> SomeDataStruct {
    SomeDataStruct {
        name: format!("large {i}"),
        names: vec!["x".repeat(1000); 100],
    }
}

/// Sends a transform as its own task.
fn spawn_transform(
    app: &Router,
    path: &'static str,
    record: SomeDataStruct,
) -> tokio::task::JoinHandle<(SomeDataStruct, Reply)> {
    let app = app.clone();
    tokio::spawn(async move {
        let body = serde_json::to_vec(&record).expect("json");
        let reply = post_json(&app, &format!("/api/transform?path={path}"), body).await;
        (record, reply)
    })
}

/// The reply is a 200 with `record` transformed.
fn assert_transformed(record: SomeDataStruct, reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let response: TransformResponse = serde_json::from_slice(&reply.body).expect("a response");
    assert_eq!(response.output, native_transform(record));
}

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
    assert!(body.len() as u64 > serve::SMALL_BODY);
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
    assert_eq!(large, (small + serve::LARGE_LANE_NICE).min(19), "{seen:?}");
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
    let app = serve::router(state, dist.path());
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

/// `boundary serve --help` documents the lanes' flags and what a full lane answers.
#[test]
fn serve_help_documents_the_lane_flags() {
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--help"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for part in [
        "--max-in-flight",
        "--queue-depth",
        "503",
        "Retry-After",
        "504",
    ] {
        assert!(help.contains(part), "{part}: {help}");
    }
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

#[tokio::test]
async fn static_files_are_served_with_types_and_caching() {
    let dist = dist();
    let app = app(dist.path()).await;

    let index = get(&app, "/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert_eq!(index.cache_control.as_deref(), Some(serve::REVALIDATE));
    assert!(index.body.starts_with(b"<!doctype html>"));
    let index_by_name = get(&app, "/index.html").await;
    assert_eq!(
        index_by_name.cache_control.as_deref(),
        Some(serve::REVALIDATE)
    );

    let wasm = get(&app, "/assets/transformer.core-Ef56Gh78.wasm").await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.content_type.as_deref(), Some("application/wasm"));
    assert_eq!(wasm.cache_control.as_deref(), Some(serve::IMMUTABLE));
    assert_eq!(wasm.body, WASM);

    let js = get(&app, "/assets/index-Ab12Cd34.js").await;
    assert!(
        js.content_type
            .as_deref()
            .is_some_and(|t| t.contains("javascript"))
    );
    assert_eq!(js.cache_control.as_deref(), Some(serve::IMMUTABLE));

    // A missing file is a 404, not the index page: a missing wasm must not come back as HTML.
    for uri in ["/assets/missing-00000000.wasm", "/nothing.html"] {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_ne!(
            reply.cache_control.as_deref(),
            Some(serve::IMMUTABLE),
            "{uri}"
        );
    }
    // The API is never cached.
    assert_eq!(
        get(&app, "/api/todos").await.cache_control.as_deref(),
        Some("no-store")
    );
}

#[test]
fn a_missing_dist_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("dist");
    let message = serve::check_dist(&missing)
        .expect_err("no dist")
        .to_string();
    assert_eq!(
        message,
        format!("{} not found: run `just web` first", missing.display())
    );

    // Through the binary: exit code 2, one line on stderr, before binding anything.
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--addr", "127.0.0.1:0", "--dist"])
        .arg(&missing)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("not found: run `just web` first"),
        "{stderr}"
    );
}

/// The workspace's `web/dist`, as the binary knows it.
fn workspace_dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist")
}

/// Bug 9: without `--dist`, `web/dist` is looked for under the current directory, then under the
/// workspace the binary was built from; the error names both.
#[test]
fn the_web_app_is_found_from_any_directory() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let candidates = serve::dist_candidates(cwd.path());
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    assert_eq!(candidates[0], cwd.path().join("web/dist"));
    // The same directory as the workspace's (web/ exists in a checkout; dist/ may not yet).
    let parent = |p: &Path| {
        p.parent()
            .expect("a parent")
            .canonicalize()
            .expect("web/ exists")
    };
    assert_eq!(parent(&candidates[1]), parent(&workspace_dist()));
    assert!(
        !candidates[1].to_string_lossy().contains(".."),
        "{candidates:?}"
    );

    // Run from the workspace root, the two are one.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().and_then(Path::parent).expect("host/cli");
    assert_eq!(serve::dist_candidates(root).len(), 1);

    // Neither exists: one message naming both, and how to fix it.
    let other = tempfile::tempdir().expect("temp dir");
    let tried = vec![cwd.path().join("web/dist"), other.path().join("web/dist")];
    let message = serve::find_dist(&tried).expect_err("none").to_string();
    assert_eq!(
        message,
        format!(
            "{} and {} not found: run `just web` first, or pass --dist",
            tried[0].display(),
            tried[1].display()
        )
    );
    // The first that holds an index.html wins.
    write_dist(&tried[1]);
    assert_eq!(serve::find_dist(&tried).expect("found"), tried[1]);
    write_dist(&tried[0]);
    assert_eq!(serve::find_dist(&tried).expect("found"), tried[0]);
    // A directory without index.html does not count.
    std::fs::remove_file(tried[0].join("index.html")).expect("rm");
    assert_eq!(serve::find_dist(&tried).expect("found"), tried[1]);
}

/// A `boundary serve` child, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `boundary serve ARGS` in `cwd`: the server once it says where it listens, or its exit
/// code and standard error if it exits first.
fn start(cwd: &Path, args: &[&str]) -> Result<Server, (Option<i32>, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .arg("serve")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    let line = receive
        .recv_timeout(Duration::from_secs(120))
        .expect("the server starts or exits within two minutes");
    match line.strip_prefix("serving ") {
        Some(url) => Ok(Server {
            child,
            url: url.trim().to_owned(),
        }),
        None => {
            let status = child.wait().expect("exits");
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("reads");
            Err((status.code(), stderr))
        }
    }
}

/// One HTTP/1.1 request over loopback: the status line and the body.
fn http(url: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&authority).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Bug 9 through the binary: run outside the repository with no `--dist`, it serves the
/// current directory's `web/dist`; without one, it serves the workspace's if that is built, and
/// otherwise fails with one line naming both places it looked.
#[test]
fn serve_works_outside_the_repository() {
    let with_dist = tempfile::tempdir().expect("temp dir");
    write_dist(&with_dist.path().join("web/dist"));
    let server = start(with_dist.path(), &["--addr", "127.0.0.1:0"]).expect("serves");
    let (status, body) = http(&server.url, "GET", "/", "");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("<title>t</title>"), "{body}");
    // The HTTP server answers a 405 with the error body too.
    let (status, body) = http(&server.url, "PUT", "/api/todos", "{}");
    assert!(status.contains(" 405 "), "{status}");
    let error: ErrorBody = serde_json::from_str(&body).expect("an error body");
    assert!(error.error.contains("PUT"), "{error:?}");
    drop(server);

    let empty = tempfile::tempdir().expect("temp dir");
    let built = workspace_dist().join("index.html").is_file();
    match start(empty.path(), &["--addr", "127.0.0.1:0"]) {
        Ok(server) => {
            assert!(built, "served without a web/dist anywhere");
            let (status, _) = http(&server.url, "GET", "/", "");
            assert!(status.contains(" 200 "), "{status}");
        }
        Err((code, stderr)) => {
            assert!(!built, "the workspace's web/dist is built, yet: {stderr}");
            assert_eq!(code, Some(2), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("error: "), "{stderr}");
            assert!(
                stderr.contains(&empty.path().join("web/dist").display().to_string()),
                "{stderr}"
            );
            assert!(stderr.contains("--dist"), "{stderr}");
        }
    }
}

/// Bug 4: an address already in use printed its cause twice.
#[test]
fn an_address_in_use_is_one_line_with_its_cause_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = taken.local_addr().expect("addr").to_string();
    let dist = dist();
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--addr", &addr, "--dist"])
        .arg(dist.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
    let cause = std::io::Error::from(std::io::ErrorKind::AddrInUse).to_string();
    assert!(
        stderr.to_lowercase().contains("in use"),
        "{stderr} ({cause})"
    );
    assert_eq!(stderr.matches("(os error").count(), 1, "{stderr}");
    assert_causes_once(stderr.trim_end());
    drop(taken);
}

/// The web's API types are generated from the serde types (`web/src/api-types.ts`): the
/// committed file must be what they generate now.
#[test]
fn the_committed_typescript_api_types_are_current() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/src/api-types.ts");
    let generated = serve::typescript_api();
    if std::env::var_os("BOUNDARY_BLESS").is_some() {
        std::fs::write(&file, &generated).expect("writes web/src/api-types.ts");
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == generated,
        "web/src/api-types.ts is not what the serde types in host/cli/src/commands/serve.rs \
         generate; regenerate it with `BOUNDARY_BLESS=1 cargo test -p boundary-cli --test all api` \
         and commit it.\n--- generated ---\n{generated}"
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
