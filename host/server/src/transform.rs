//! `POST /api/transform?path=NAME`: a record through the named path's guest, on a thread of its
//! lane. The request is admitted (or refused) before its body is read, waits for a turn, and
//! then parses, calls and serialises on that thread, so the executor only moves bytes.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest as _, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use boundary_host::{AnyGuest, Called, Pool, SomeDataStruct};
use serde::Deserialize;

use crate::admission::Lane;
use crate::api::TransformResponse;
use crate::error::{ApiError, ApiResult};
use crate::os::memory;
use crate::state::AppState;

/// The transform route, relative to `/api`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/transform", post(transform))
}

#[derive(Debug, Deserialize)]
struct TransformQuery {
    path: String,
}

async fn transform(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TransformQuery>, QueryRejection>,
    request: Request,
) -> ApiResult<Response> {
    let Query(TransformQuery { path }) = query.map_err(|rejection| {
        ApiError::bad_input(
            rejection.status(),
            format!(
                "{}: expected {}",
                rejection.body_text(),
                state.path_choices()
            ),
        )
    })?;
    let pool = state.pool(&path).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("no path called {path:?}: expected {}", state.path_choices()),
        )
    })?;
    if !is_json(request.headers()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Expected request with `Content-Type: application/json`",
        ));
    }
    // Admitted or refused before the body is read: a full lane answers at once.
    let lane = Lane::of(
        request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()),
    );
    let ticket = state.gate(lane).admit()?;
    let body = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| ApiError::bad_input(rejection.status(), rejection.body_text()))?;
    let turn = state.gate(lane).turn().await?;
    let runtime = tokio::runtime::Handle::current();
    let shared = Arc::clone(&state);
    // Not cancelled with the request: the thread finishes its call, then gives back the turn
    // and the ticket.
    let job = move || {
        let gate = shared.gate(lane);
        let running = gate.start();
        if let Some(hook) = shared.hook() {
            hook(lane);
        }
        let response = transform_blocking(&runtime, shared.pool_at(pool), &body);
        drop((running, turn, ticket, body));
        if lane == Lane::Large && gate.load().running == 0 {
            memory::give_back_freed();
        }
        response
    };
    lane.run(job).await?
}

/// Whether the request says its body is JSON: `application/json`, or `application/*+json`, as
/// axum's `Json` extractor accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

/// A transform on its blocking thread: parse the body, call the guest (driving the pool's call
/// to completion here), serialise the response.
fn transform_blocking(
    runtime: &tokio::runtime::Handle,
    pool: &Pool<AnyGuest>,
    body: &[u8],
) -> ApiResult<Response> {
    let Json(input) = Json::<SomeDataStruct>::from_bytes(body)?;
    let start = Instant::now();
    let Called { value, traffic } = runtime.block_on(pool.transform(&input))?;
    let elapsed_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    drop(input);
    let response = TransformResponse {
        path: pool.guest().name().to_owned(),
        output: value,
        traffic: traffic.into(),
        elapsed_us,
    };
    let json = serde_json::to_vec(&response)
        .map_err(|e| ApiError::internal(format!("cannot serialise the response: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response())
}
