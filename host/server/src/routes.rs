//! The router: the API under `/api` with its body caps and fallbacks, the web app's files for
//! everything else, and the headers every response gets (caching, `nosniff`).

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{todos, transform};

/// The largest body the to-do routes accept.
pub const MAX_TODO_BODY: usize = 16 << 10;
/// The largest body `POST /api/transform` accepts: room for a record of a few MiB as JSON.
pub const MAX_TRANSFORM_BODY: usize = 8 << 20;

/// `Cache-Control` for files whose names change with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` for everything else: use it, but ask the server first.
pub const REVALIDATE: &str = "no-cache";

/// The app: the API under `/api`, and `dist` for everything else. Pass an `Arc<AppState>` to keep
/// a handle on the state (to watch its lanes).
pub fn router(state: impl Into<Arc<AppState>>, dist: &Path) -> Router {
    let state: Arc<AppState> = state.into();
    let api = todos::routes()
        .layer(DefaultBodyLimit::max(MAX_TODO_BODY))
        .merge(transform::routes().layer(DefaultBodyLimit::max(MAX_TRANSFORM_BODY)))
        // After every route: it applies to the routes registered so far.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API route") })
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state);
    let files = Router::new()
        .fallback_service(ServeDir::new(dist).append_index_html_on_directories(true))
        .layer(middleware::from_fn(cache_control));
    Router::new()
        .nest("/api", api)
        .merge(files)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// A route that exists, asked with a method it does not take: `405` with the error body (axum
/// adds the `Allow` header).
async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take {method} (the Allow header lists what it takes)",
            uri.path()
        ),
    )
}

/// Immutable caching for hashed assets, revalidation for the rest.
async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let value = if hashed && response.status().is_success() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
