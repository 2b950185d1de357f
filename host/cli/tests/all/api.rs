//! `boundary serve`: the to-do API, server-side transforms and static files, driven in-process.

// Being ported to the new crates; the owner removes this gate.
#[cfg(any())]
mod pending {

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use boundary_host::serve::{self, AppState, GuestPath, Todo, TransformResponse};
use boundary_host::{Runtime, SomeDataStruct, native_transform};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// A fake `dist`: an index page and a hashed asset of each kind.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>t</title>",
    )
    .expect("index");
    std::fs::create_dir(dir.path().join("assets")).expect("assets");
    std::fs::write(dir.path().join("assets/index-Ab12Cd34.js"), "export {}").expect("js");
    std::fs::write(
        dir.path().join("assets/transformer.core-Ef56Gh78.wasm"),
        WASM,
    )
    .expect("wasm");
    dir
}

async fn app(dist: &Path) -> Router {
    let runtime = Runtime::new(Default::default()).expect("engine");
    let state = AppState::new(&runtime).await.expect("guests load");
    serve::router(state, dist)
}

struct Reply {
    status: StatusCode,
    content_type: Option<String>,
    cache_control: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The message of an error reply, after checking its shape.
    fn error(&self) -> String {
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        let json = self.json();
        let message = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {json}"));
        assert!(!message.is_empty());
        message.to_owned()
    }
}

async fn send(app: &Router, method: Method, uri: &str, body: Option<Body>, json: bool) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if json {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(body.unwrap_or_else(Body::empty))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().expect("ascii header").to_owned())
    };
    let (status, content_type, cache_control) = (
        response.status(),
        header(header::CONTENT_TYPE),
        header(header::CACHE_CONTROL),
    );
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        content_type,
        cache_control,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Method::GET, uri, None, false).await
}

async fn post_json(app: &Router, uri: &str, body: impl Into<Body>) -> Reply {
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
    let reply = post_json(&app, "/api/transform?path=raw", body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    reply.error();
}

async fn transform(app: &Router, path: &str, record: &SomeDataStruct) -> TransformResponse {
    let body = serde_json::to_vec(record).expect("json");
    let reply = post_json(app, &format!("/api/transform?path={path}"), body).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).expect("a transform response")
}

#[tokio::test]
async fn transform_runs_both_guests_on_the_server() {
    let dist = dist();
    let app = app(dist.path()).await;
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
        let component = transform(&app, "component", record).await;
        let raw = transform(&app, "raw", record).await;
        assert_eq!(component.path, GuestPath::Component);
        assert_eq!(raw.path, GuestPath::Raw);
        assert_eq!(component.output, expected);
        assert_eq!(raw.output, expected);
        // ns_malloc, entry_point and three ns_free calls.
        assert_eq!(raw.guest_calls, 5);
        assert_eq!(
            component.bytes_in,
            boundary_host::component::canonical_size(record)
        );
        let encoded = boundary_kernel::wire::encode(record).expect("encodes");
        assert_eq!(raw.bytes_in, encoded.len() as u64);
    }
    // Instances are reused: many calls in a row keep working.
    for _ in 0..20 {
        let out = transform(&app, "component", &SomeDataStruct::example()).await;
        assert_eq!(out.output, native_transform(SomeDataStruct::example()));
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
        assert!(
            reply.error().contains("path=component"),
            "{uri}: {}",
            reply.error()
        );
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
        .timeout(std::time::Duration::from_secs(60))
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

}
