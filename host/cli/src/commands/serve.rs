//! `boundary serve`: the web app, its to-do API, and server-side transforms.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/todos` | every to-do item, oldest first |
//! | `POST /api/todos` `{"title": "..."}` | creates a pending item: `201` and the item |
//! | `POST /api/todos/{id}/done` | marks an item done: `200` and the item |
//! | `DELETE /api/todos/{id}` | deletes an item: `204` |
//! | `POST /api/transform?path=component\|raw` | transforms a record with the host's guests |
//! | anything else | a file of the web app's `dist` directory |
//!
//! Errors are `{"error": "..."}`: `400` for input that does not parse or validate, `404` for an
//! unknown id or API route, `413` for a body over the route's cap, `422` when the guest refuses
//! the record, `500` when it breaks its contract.
//!
//! Files under `/assets/` carry a content hash in their names (Vite puts it there), so they are
//! cached for a year as immutable; everything else, `index.html` first, is revalidated on every
//! use. `.wasm` files are served as `application/wasm`, which `WebAssembly.compileStreaming`
//! requires.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, extract};
use serde::{Deserialize, Serialize};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    CallError, Called, ComponentGuest, ComponentInstance, LoadError, RawGuest, RawInstance,
    Runtime, SomeDataStruct, Traffic, embedded,
};

/// The largest body the to-do routes accept.
pub const MAX_TODO_BODY: usize = 16 << 10;
/// The largest body `POST /api/transform` accepts: room for a record of a few MiB as JSON.
pub const MAX_TRANSFORM_BODY: usize = 8 << 20;
/// The longest to-do title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// `Cache-Control` for files whose names change with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` for everything else: use it, but ask the server first.
pub const REVALIDATE: &str = "no-cache";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The directory to serve, or its `index.html`, does not exist.
    #[error("{} not found: run `just web` first", dist.display())]
    DistMissing {
        /// The directory.
        dist: PathBuf,
    },
    /// An embedded guest did not load.
    #[error("cannot load the embedded {which}: {source}")]
    Load {
        /// Which guest.
        which: &'static str,
        /// Why.
        source: LoadError,
    },
    /// An embedded guest did not instantiate.
    #[error("cannot instantiate the embedded {which}: {source}")]
    Instantiate {
        /// Which guest.
        which: &'static str,
        /// Why.
        source: CallError,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `dist` and the API on `addr` until interrupted, after printing
/// `serving http://ADDR/` on standard output.
///
/// # Errors
///
/// [`ServeError`] when the server cannot start, or fails while running.
pub async fn run(runtime: Runtime, addr: SocketAddr, dist: &Path) -> Result<(), ServeError> {
    check_dist(dist)?;
    let state = AppState::new(&runtime).await?;
    let app = router(state, dist);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "serving http://{local}/")?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // If the handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    Ok(())
}

/// Checks that `dist` holds a built web app.
///
/// # Errors
///
/// [`ServeError::DistMissing`] when `dist/index.html` is not a file.
pub fn check_dist(dist: &Path) -> Result<(), ServeError> {
    if dist.join("index.html").is_file() {
        Ok(())
    } else {
        Err(ServeError::DistMissing {
            dist: dist.to_owned(),
        })
    }
}

/// The app: the API under `/api`, and `dist` for everything else.
pub fn router(state: AppState, dist: &Path) -> Router {
    let state = Arc::new(state);
    let todos = Router::new()
        .route("/todos", get(list_todos).post(create_todo))
        .route("/todos/{id}/done", post(mark_done))
        .route("/todos/{id}", delete(delete_todo))
        .layer(DefaultBodyLimit::max(MAX_TODO_BODY));
    let transform = Router::new()
        .route("/transform", post(transform))
        .layer(DefaultBodyLimit::max(MAX_TRANSFORM_BODY));
    let api = todos
        .merge(transform)
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

/// What the handlers share: the to-do store and the guests.
#[derive(Debug)]
pub struct AppState {
    todos: Mutex<Todos>,
    component: Pool<ComponentGuest, ComponentInstance>,
    raw: Pool<RawGuest, RawInstance>,
}

impl AppState {
    /// Compiles and links both embedded guests once, checks that each instantiates, and starts
    /// the to-do store with a few items.
    ///
    /// # Errors
    ///
    /// [`ServeError::Load`] or [`ServeError::Instantiate`] if an embedded guest does not work.
    pub async fn new(runtime: &Runtime) -> Result<Self, ServeError> {
        let component =
            runtime
                .component(embedded::COMPONENT)
                .map_err(|source| ServeError::Load {
                    which: "component",
                    source,
                })?;
        let raw = runtime
            .raw(embedded::CORE_MODULE)
            .map_err(|source| ServeError::Load {
                which: "core module",
                source,
            })?;
        let first_component =
            component
                .instantiate()
                .await
                .map_err(|source| ServeError::Instantiate {
                    which: "component",
                    source,
                })?;
        let first_raw = raw
            .instantiate()
            .await
            .map_err(|source| ServeError::Instantiate {
                which: "core module",
                source,
            })?;
        Ok(Self {
            todos: Mutex::new(Todos::seeded()),
            component: Pool::new(component, first_component),
            raw: Pool::new(raw, first_raw),
        })
    }

    fn todos(&self) -> MutexGuard<'_, Todos> {
        // A handler that panicked mid-update cannot leave the map half-written: every update is
        // one insert or remove. Keep serving.
        self.todos
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Idle instances of one guest. A request takes one (or instantiates one from the guest, which is
/// cheap: compiling and linking happened once) and puts it back unless the call broke it.
struct Pool<G, I> {
    guest: G,
    idle: Mutex<Vec<I>>,
}

impl<G, I> std::fmt::Debug for Pool<G, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

/// At most this many idle instances are kept per guest.
const MAX_IDLE: usize = 8;

impl<G, I> Pool<G, I> {
    fn new(guest: G, first: I) -> Self {
        Self {
            guest,
            idle: Mutex::new(vec![first]),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<I>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take(&self) -> Option<I> {
        self.idle().pop()
    }

    /// Returns an instance after a call. After an error other than the guest's own, an instance
    /// may be broken (a trapped component refuses further calls): drop it.
    fn give_back<T>(&self, instance: I, result: &Result<T, CallError>) {
        if matches!(result, Ok(_) | Err(CallError::Guest(_))) {
            let mut idle = self.idle();
            if idle.len() < MAX_IDLE {
                idle.push(instance);
            }
        }
    }
}

impl Pool<ComponentGuest, ComponentInstance> {
    async fn transform(&self, input: &SomeDataStruct) -> Result<Called<SomeDataStruct>, CallError> {
        let mut instance = match self.take() {
            Some(instance) => instance,
            None => self.guest.instantiate().await?,
        };
        let result = instance.transform(input).await;
        self.give_back(instance, &result);
        result
    }
}

impl Pool<RawGuest, RawInstance> {
    async fn transform(&self, input: &SomeDataStruct) -> Result<Called<SomeDataStruct>, CallError> {
        let mut instance = match self.take() {
            Some(instance) => instance,
            None => self.guest.instantiate().await?,
        };
        let result = instance.transform(input).await;
        self.give_back(instance, &result);
        result
    }
}

/// A to-do item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Not done yet.
    Pending,
    /// Done.
    Done,
}

/// A to-do item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Assigned by the store, never reused.
    pub id: u64,
    /// What to do.
    pub title: String,
    /// `PENDING` or `DONE`.
    pub status: Status,
}

/// The in-memory store.
#[derive(Debug)]
struct Todos {
    next_id: u64,
    items: BTreeMap<u64, Todo>,
}

impl Todos {
    fn seeded() -> Self {
        let mut todos = Self {
            next_id: 1,
            items: BTreeMap::new(),
        };
        for (title, status) in [
            ("Write the WIT contract", Status::Done),
            ("Transpile the component with jco", Status::Pending),
            ("Compare both paths in the browser", Status::Pending),
        ] {
            todos.insert(title.to_owned(), status);
        }
        todos
    }

    fn insert(&mut self, title: String, status: Status) -> Todo {
        let id = self.next_id;
        self.next_id += 1;
        let todo = Todo { id, title, status };
        self.items.insert(id, todo.clone());
        todo
    }
}

/// The body of `POST /api/todos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTodo {
    title: String,
}

/// Which guest `POST /api/transform` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestPath {
    /// The component, through the canonical ABI.
    Component,
    /// The core module, through the ptr/len ABI.
    Raw,
}

#[derive(Debug, Deserialize)]
struct TransformQuery {
    path: GuestPath,
}

/// The response of `POST /api/transform`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransformResponse {
    /// The guest that ran.
    pub path: GuestPath,
    /// What it returned.
    pub output: SomeDataStruct,
    /// Guest entries during the call.
    pub guest_calls: u32,
    /// Payload bytes copied into the guest.
    pub bytes_in: u64,
    /// Payload bytes copied out of it.
    pub bytes_out: u64,
    /// Wall time of the call on the server, in microseconds.
    pub elapsed_us: u64,
}

/// An error response: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn not_found(id: u64) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no to-do item with id {id}"))
    }

    /// A body or URL that did not parse: `413` when over the cap, `400` otherwise (axum itself
    /// answers some of these with `415` or `422`; the API promises `400` for bad input).
    fn bad_input(status: StatusCode, message: String) -> Self {
        let status = if status == StatusCode::PAYLOAD_TOO_LARGE {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::new(status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        (
            self.status,
            Json(Body {
                error: self.message,
            }),
        )
            .into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self::bad_input(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_input(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_input(
            rejection.status(),
            format!(
                "{}: expected ?path=component or ?path=raw",
                rejection.body_text()
            ),
        )
    }
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        let status = match error {
            CallError::Guest(_) | CallError::InputTooLarge { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, error.to_string())
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn list_todos(State(state): State<Arc<AppState>>) -> Json<Vec<Todo>> {
    Json(state.todos().items.values().cloned().collect())
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
    let todo = state.todos().insert(title.to_owned(), Status::Pending);
    Ok((StatusCode::CREATED, Json(todo)))
}

async fn mark_done(
    State(state): State<Arc<AppState>>,
    id: Result<extract::Path<u64>, PathRejection>,
) -> ApiResult<Json<Todo>> {
    let extract::Path(id) = id?;
    let mut todos = state.todos();
    let todo = todos.items.get_mut(&id).ok_or(ApiError::not_found(id))?;
    todo.status = Status::Done;
    Ok(Json(todo.clone()))
}

async fn delete_todo(
    State(state): State<Arc<AppState>>,
    id: Result<extract::Path<u64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let extract::Path(id) = id?;
    match state.todos().items.remove(&id) {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::not_found(id)),
    }
}

async fn transform(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TransformQuery>, QueryRejection>,
    body: Result<Json<SomeDataStruct>, JsonRejection>,
) -> ApiResult<Json<TransformResponse>> {
    let Query(TransformQuery { path }) = query?;
    let Json(input) = body?;
    let start = Instant::now();
    let called = match path {
        GuestPath::Component => state.component.transform(&input).await?,
        GuestPath::Raw => state.raw.transform(&input).await?,
    };
    let elapsed_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let Called {
        value,
        traffic:
            Traffic {
                guest_calls,
                bytes_in,
                bytes_out,
            },
    } = called;
    Ok(Json(TransformResponse {
        path,
        output: value,
        guest_calls,
        bytes_in,
        bytes_out,
        elapsed_us,
    }))
}
