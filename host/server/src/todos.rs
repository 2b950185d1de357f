//! The to-do routes: each request checks its input, then makes one call to the
//! [`TodoStore`](crate::store::TodoStore), on a blocking thread (a store on disk may wait for
//! the disk), and answers what the store did.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{self, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use crate::api::{MAX_TITLE_CHARS, NewTodo, Todo};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{StoreError, TodoStore};

/// The to-do routes, relative to `/api`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/todos", get(list_todos).post(create_todo))
        .route("/todos/{id}/done", post(mark_done))
        .route("/todos/{id}", delete(delete_todo))
}

/// Runs one store operation off the async executor.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    operation: impl FnOnce(&dyn TodoStore) -> Result<T, StoreError> + Send + 'static,
) -> ApiResult<T> {
    let store = Arc::clone(state.store());
    tokio::task::spawn_blocking(move || operation(store.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("the to-do store's thread failed: {e}")))?
        .map_err(ApiError::from)
}

async fn list_todos(State(state): State<Arc<AppState>>) -> ApiResult<Json<Vec<Todo>>> {
    with_store(&state, |store| store.list()).await.map(Json)
}

async fn create_todo(
    State(state): State<Arc<AppState>>,
    body: Result<Json<NewTodo>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Todo>)> {
    let Json(NewTodo { title }) = body?;
    let title = title.trim();
    if title.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the title must not be empty",
        ));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the title is {chars} characters long, over the limit of {MAX_TITLE_CHARS}"),
        ));
    }
    let title = title.to_owned();
    let todo = with_store(&state, move |store| store.create(&title)).await?;
    Ok((StatusCode::CREATED, Json(todo)))
}

async fn mark_done(
    State(state): State<Arc<AppState>>,
    id: Result<extract::Path<u64>, PathRejection>,
) -> ApiResult<Json<Todo>> {
    let extract::Path(id) = id?;
    with_store(&state, move |store| store.mark_done(id))
        .await
        .map(Json)
}

async fn delete_todo(
    State(state): State<Arc<AppState>>,
    id: Result<extract::Path<u64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let extract::Path(id) = id?;
    with_store(&state, move |store| store.delete(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
