//! What the server's tests share: a fake web app, the app under test, and one request sent
//! in-process with its reply; a latch that holds guest calls; the lanes' watchers.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use boundary_host::{Limits, Runtime, SomeDataStruct, native_transform};
use boundary_server::{AppState, Capacity, ErrorBody, Lane, Todo, TodoStore, TransformResponse};
use serde_json::Value;
use tower::ServiceExt as _;

pub(crate) const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// A fake `dist`: an index page and a hashed asset of each kind.
pub(crate) fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_dist(dir.path());
    dir
}

pub(crate) fn write_dist(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).expect("assets");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title>").expect("index");
    std::fs::write(dir.join("assets/index-Ab12Cd34.js"), "export {}").expect("js");
    std::fs::write(dir.join("assets/transformer.core-Ef56Gh78.wasm"), WASM).expect("wasm");
}

pub(crate) async fn app(dist: &Path) -> Router {
    app_with(dist, Limits::default()).await
}

/// Room for every request the tests send at once.
pub(crate) const ROOMY: Capacity = Capacity {
    max_in_flight: 2,
    queue_depth: 1000,
};

pub(crate) async fn app_with(dist: &Path, limits: Limits) -> Router {
    let runtime = Runtime::new(limits).expect("engine");
    let state = AppState::new(&runtime, ROOMY).await.expect("guests load");
    boundary_server::router(state, dist)
}

/// The name of every registered path.
pub(crate) fn path_names() -> Vec<&'static str> {
    boundary_guests::paths().iter().map(|p| p.name()).collect()
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) cache_control: Option<String>,
    pub(crate) allow: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The message of an error reply, after checking its shape: `{"error": "..."}` and nothing
    /// else, as [`ErrorBody`] declares it, with each cause once.
    pub(crate) fn error(&self) -> String {
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
pub(crate) fn assert_causes_once(message: &str) {
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
pub(crate) async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Vec<u8>>,
    json: bool,
) -> Reply {
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

pub(crate) async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Method::GET, uri, None, false).await
}

pub(crate) async fn post_json(app: &Router, uri: &str, body: impl Into<Vec<u8>>) -> Reply {
    send(app, Method::POST, uri, Some(body.into()), true).await
}

pub(crate) async fn todos(app: &Router) -> Vec<Todo> {
    let reply = get(app, "/api/todos").await;
    assert_eq!(reply.status, StatusCode::OK);
    serde_json::from_slice(&reply.body).expect("a list of items")
}

pub(crate) async fn transform(
    app: &Router,
    path: &str,
    record: &SomeDataStruct,
) -> TransformResponse {
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

/// Where guest calls wait in the tests below: each call that arrives is counted, then waits
/// until `open`, or until the group of `together` calls it belongs to (calls 1 and 2, 3 and 4,
/// ... for two) has arrived. A call that waits a minute panics, which the server answers with a
/// 500 the test sees.
#[derive(Default)]
pub(crate) struct Latch {
    /// Calls that arrived, and whether the latch is open.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Latch {
    /// Counts this call, then waits until the latch is open or its group has arrived.
    pub(crate) fn arrive_and_wait(&self, together: usize) {
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

    pub(crate) fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// An app whose guest calls go through `hook` first, and its state.
pub(crate) async fn app_with_hook(
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
    (boundary_server::router(Arc::clone(&state), dist), state)
}

/// Waits (a minute at most) until `lane` satisfies `what`.
pub(crate) async fn until(
    state: &AppState,
    lane: Lane,
    what: impl Fn(boundary_server::LaneLoad) -> bool,
) {
    for _ in 0..60_000 {
        if what(state.load(lane)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the {lane:?} lane never got there: {:?}", state.load(lane));
}

/// A record whose JSON is over the small lane's bound.
pub(crate) fn large_record(i: usize) -> SomeDataStruct {
    SomeDataStruct {
        name: format!("large {i}"),
        names: vec!["x".repeat(1000); 100],
    }
}

/// Sends a transform as its own task.
pub(crate) fn spawn_transform(
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
pub(crate) fn assert_transformed(record: SomeDataStruct, reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let response: TransformResponse = serde_json::from_slice(&reply.body).expect("a response");
    assert_eq!(response.output, native_transform(record));
}

/// An app whose to-do items live in `store`, and its state.
pub(crate) async fn app_with_store(
    dist: &Path,
    store: impl TodoStore + 'static,
) -> (Router, Arc<AppState>) {
    let runtime = Runtime::new(Limits::default()).expect("engine");
    let state = Arc::new(
        AppState::new(&runtime, ROOMY)
            .await
            .expect("guests load")
            .with_store(store),
    );
    (boundary_server::router(Arc::clone(&state), dist), state)
}

/// Posts a new item titled `title`.
pub(crate) async fn create(app: &Router, title: &str) -> Reply {
    let body = serde_json::to_vec(&serde_json::json!({ "title": title })).expect("json");
    post_json(app, "/api/todos", body).await
}
