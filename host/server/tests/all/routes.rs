//! What every route shares: methods a route does not take, body caps, static files and caching.

use axum::http::{Method, StatusCode};
use boundary_host::SomeDataStruct;

use crate::support::{WASM, app, dist, get, path_names, post_json, send, todos};

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
    let title = "x".repeat(boundary_server::MAX_TODO_BODY);
    let reply = post_json(&app, "/api/todos", format!(r#"{{"title":"{title}"}}"#)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    reply.error();

    let record = SomeDataStruct {
        name: "x".repeat(boundary_server::MAX_TRANSFORM_BODY),
        names: vec![],
    };
    let body = serde_json::to_vec(&record).expect("json");
    for path in path_names() {
        let reply = post_json(&app, &format!("/api/transform?path={path}"), body.clone()).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        reply.error();
    }
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
    assert_eq!(
        index.cache_control.as_deref(),
        Some(boundary_server::REVALIDATE)
    );
    assert!(index.body.starts_with(b"<!doctype html>"));
    let index_by_name = get(&app, "/index.html").await;
    assert_eq!(
        index_by_name.cache_control.as_deref(),
        Some(boundary_server::REVALIDATE)
    );

    let wasm = get(&app, "/assets/transformer.core-Ef56Gh78.wasm").await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.content_type.as_deref(), Some("application/wasm"));
    assert_eq!(
        wasm.cache_control.as_deref(),
        Some(boundary_server::IMMUTABLE)
    );
    assert_eq!(wasm.body, WASM);

    let js = get(&app, "/assets/index-Ab12Cd34.js").await;
    assert!(
        js.content_type
            .as_deref()
            .is_some_and(|t| t.contains("javascript"))
    );
    assert_eq!(
        js.cache_control.as_deref(),
        Some(boundary_server::IMMUTABLE)
    );

    // A missing file is a 404, not the index page: a missing wasm must not come back as HTML.
    for uri in ["/assets/missing-00000000.wasm", "/nothing.html"] {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_ne!(
            reply.cache_control.as_deref(),
            Some(boundary_server::IMMUTABLE),
            "{uri}"
        );
    }
    // The API is never cached.
    assert_eq!(
        get(&app, "/api/todos").await.cache_control.as_deref(),
        Some("no-store")
    );
}
