//! `boundary serve`: the web app, its to-do API, and server-side transforms on every registered
//! path.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/todos` | every to-do item, oldest first |
//! | `POST /api/todos` `{"title": "..."}` | creates a pending item: `201` and the item |
//! | `POST /api/todos/{id}/done` | marks an item done: `200` and the item |
//! | `DELETE /api/todos/{id}` | deletes an item: `204` |
//! | `POST /api/transform?path=NAME` | transforms a record with the named path's guest (any path of `boundary_guests::paths()`) |
//! | anything else | a file of the web app's `dist` directory |
//!
//! Errors are `{"error": "..."}` ([`ErrorBody`]), the cause chain on one line: `400` for input
//! that does not parse or validate (or cannot be encoded for the guest), `404` for an unknown id
//! or API route, `405` for a method a route does not take (with `Allow`), `413` for a body over
//! the route's cap or a record over `--max-input-bytes`, `422` when the guest refuses the record,
//! `500` when it breaks its contract or runs into a limit.
//!
//! Files under `/assets/` carry a content hash in their names (Vite puts it there), so they are
//! cached for a year as immutable; everything else, `index.html` first, is revalidated on every
//! use. `.wasm` files are served as `application/wasm`, which `WebAssembly.compileStreaming`
//! requires.
//!
//! The API's TypeScript types (`web/src/api-types.ts`) are generated from the serde types here
//! by [`typescript_api`]; a test fails when the committed file differs.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, OriginalUri, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router, extract};
use boundary_host::{
    AnyGuest, CallError, Called, LoadError, Pool, Runtime, SomeDataStruct, Traffic,
};
use serde::{Deserialize, Serialize};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use ts_rs::TS;

use super::LimitArgs;
use crate::failure::Failure;

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

/// Flags of `boundary serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The built web app to serve (`just web` builds it). By default `web/dist` under the current
    /// directory, else under the repository this binary was built from.
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Limits every guest call runs under.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Serves the web app and the API until interrupted, on a multi-thread runtime with one worker
/// per core.
///
/// # Errors
///
/// Exit 2 for a missing web app or an address that cannot be bound (one line naming what was
/// tried, or the cause once); exit 1 if an embedded guest does not load or run, or the server
/// fails while running.
pub fn execute(args: Args) -> Result<(), Failure> {
    let dist = match &args.dist {
        Some(dist) => check_dist(dist),
        None => {
            let cwd = std::env::current_dir().map_err(|e| {
                Failure::Input(anyhow::Error::new(e).context("cannot read the current directory"))
            })?;
            find_dist(&dist_candidates(&cwd))
        }
    }
    .map_err(Failure::from)?;
    let runtime = Runtime::new(args.limits.limits())?;
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::Guest(anyhow::Error::new(e).context("cannot start the async runtime"))
        })?
        .block_on(run(&runtime, args.addr, &dist, workers))
        .map_err(Failure::from)
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No candidate directory holds a built web app (an `index.html`).
    #[error("{}: run `just web` first{}", not_found(tried), if tried.len() > 1 { ", or pass --dist" } else { "" })]
    DistMissing {
        /// The directories looked at, in order.
        tried: Vec<PathBuf>,
    },
    /// A registered path's embedded guest did not load.
    #[error("cannot load the embedded {path} guest")]
    Load {
        /// The path's name.
        path: &'static str,
        /// Why.
        #[source]
        source: LoadError,
    },
    /// A registered path's embedded guest did not instantiate or answer a first call.
    #[error("cannot start the embedded {path} guest")]
    Start {
        /// The path's name.
        path: &'static str,
        /// Why.
        #[source]
        source: CallError,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the server failed")]
    Io(#[from] std::io::Error),
}

/// `a not found`, `a and b not found`.
fn not_found(tried: &[PathBuf]) -> String {
    let names: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    format!("{} not found", or_list(&names, "and"))
}

impl From<ServeError> for Failure {
    fn from(error: ServeError) -> Self {
        match error {
            ServeError::DistMissing { .. } | ServeError::Bind { .. } => {
                Self::Input(anyhow::Error::new(error))
            }
            ServeError::Load { .. } | ServeError::Start { .. } | ServeError::Io(_) => {
                Self::Guest(anyhow::Error::new(error))
            }
        }
    }
}

/// Loads every registered path's guest, binds `addr`, prints `serving http://ADDR/` on standard
/// output, and serves `dist` and the API until interrupted. Each path's pool keeps up to
/// `max_idle` instances: one per worker thread serves every core.
///
/// # Errors
///
/// [`ServeError`] when the server cannot start, or fails while running.
pub async fn run(
    runtime: &Runtime,
    addr: SocketAddr,
    dist: &Path,
    max_idle: usize,
) -> Result<(), ServeError> {
    let state = AppState::new(runtime, max_idle).await?;
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

/// Where the web app is looked for when `--dist` is not given, in order: `web/dist` under `cwd`,
/// then under the workspace this binary was built from (so that `boundary serve` works from any
/// directory of a checkout, or from outside it).
pub fn dist_candidates(cwd: &Path) -> Vec<PathBuf> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    // host/cli -> the workspace root.
    let root = built_from
        .parent()
        .and_then(Path::parent)
        .unwrap_or(built_from);
    let mut candidates = vec![cwd.join("web/dist")];
    let from_root = root.join("web/dist");
    if !candidates.contains(&from_root) {
        candidates.push(from_root);
    }
    candidates
}

/// The first of `candidates` that holds a built web app (an `index.html` file).
///
/// # Errors
///
/// [`ServeError::DistMissing`], naming every candidate, when none does.
pub fn find_dist(candidates: &[PathBuf]) -> Result<PathBuf, ServeError> {
    candidates
        .iter()
        .find(|dist| dist.join("index.html").is_file())
        .cloned()
        .ok_or_else(|| ServeError::DistMissing {
            tried: candidates.to_vec(),
        })
}

/// Checks that `dist` holds a built web app.
///
/// # Errors
///
/// [`ServeError::DistMissing`] when `dist/index.html` is not a file.
pub fn check_dist(dist: &Path) -> Result<PathBuf, ServeError> {
    find_dist(&[dist.to_owned()])
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

/// What the handlers share: the to-do store and one instance pool per registered path.
#[derive(Debug)]
pub struct AppState {
    todos: Mutex<Todos>,
    /// In registration order.
    pools: Vec<Pool<AnyGuest>>,
}

impl AppState {
    /// Compiles and links every registered path's embedded guest once, checks that each answers
    /// a call (which leaves one idle instance in its pool), and starts the to-do store with a few
    /// items. Each pool keeps at most `max_idle` idle instances.
    ///
    /// # Errors
    ///
    /// [`ServeError::Load`] or [`ServeError::Start`] if an embedded guest does not work.
    pub async fn new(runtime: &Runtime, max_idle: usize) -> Result<Self, ServeError> {
        let mut pools = Vec::new();
        for path in boundary_guests::paths() {
            let guest = path
                .load_default(runtime)
                .map_err(|source| ServeError::Load {
                    path: path.name(),
                    source,
                })?;
            let pool = Pool::new(guest, max_idle);
            pool.button_text("DONE")
                .await
                .map_err(|source| ServeError::Start {
                    path: path.name(),
                    source,
                })?;
            pools.push(pool);
        }
        Ok(Self {
            todos: Mutex::new(Todos::seeded()),
            pools,
        })
    }

    /// The pool of the path called `name`.
    fn pool(&self, name: &str) -> Option<&Pool<AnyGuest>> {
        self.pools.iter().find(|pool| pool.guest().name() == name)
    }

    /// `?path=a or ?path=b`: what `POST /api/transform` takes.
    fn path_choices(&self) -> String {
        let choices: Vec<String> = self
            .pools
            .iter()
            .map(|pool| format!("?path={}", pool.guest().name()))
            .collect();
        or_list(&choices, "or")
    }

    fn todos(&self) -> MutexGuard<'_, Todos> {
        // A handler that panicked mid-update cannot leave the map half-written: every update is
        // one insert or remove. Keep serving.
        self.todos
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// A to-do item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Not done yet.
    Pending,
    /// Done.
    Done,
}

/// A to-do item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NewTodo {
    /// What to do: trimmed, not empty, at most 200 characters.
    pub title: String,
}

#[derive(Debug, Deserialize)]
struct TransformQuery {
    path: String,
}

/// The response of `POST /api/transform`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransformResponse {
    /// The path whose guest ran.
    #[ts(type = "PathName")]
    pub path: String,
    /// What it returned.
    #[ts(type = "SomeDataStruct")]
    pub output: SomeDataStruct,
    /// What crossed the boundary.
    #[serde(flatten)]
    #[ts(flatten)]
    pub traffic: CallTraffic,
    /// Wall time of the call on the server, in microseconds.
    pub elapsed_us: u64,
}

/// What one call moved across the boundary (the library's `Traffic`, as JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CallTraffic {
    /// Entries from the host into guest code.
    pub guest_calls: u32,
    /// Payload bytes copied into the guest.
    pub bytes_in: u64,
    /// Payload bytes copied out of it.
    pub bytes_out: u64,
}

impl From<Traffic> for CallTraffic {
    fn from(traffic: Traffic) -> Self {
        let Traffic {
            guest_calls,
            bytes_in,
            bytes_out,
        } = traffic;
        Self {
            guest_calls,
            bytes_in,
            bytes_out,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ErrorBody {
    /// What went wrong, with its causes, on one line.
    pub error: String,
}

/// The API's TypeScript types, as committed in `web/src/api-types.ts`: generated with `ts-rs`
/// from the serde types above, plus `PathName`, the registered paths' names.
pub fn typescript_api() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let names: Vec<String> = boundary_guests::paths()
        .iter()
        .map(|path| format!("{:?}", path.name()))
        .collect();
    let mut out = String::from(
        "// Generated from the serde types of host/cli/src/commands/serve.rs by ts-rs: do not edit.\n\
         // Regenerate with `BOUNDARY_BLESS=1 cargo test -p boundary-cli --test all api`.\n\
         \n\
         import type { SomeDataStruct } from './component';\n\
         \n\
         /** The name of a registered path: what `POST /api/transform?path=` takes. */\n",
    );
    out.push_str(&format!("export type PathName = {};\n", names.join(" | ")));
    for decl in [
        declaration::<Status>(&cfg),
        declaration::<Todo>(&cfg),
        declaration::<NewTodo>(&cfg),
        declaration::<CallTraffic>(&cfg),
        declaration::<TransformResponse>(&cfg),
        declaration::<ErrorBody>(&cfg),
    ] {
        out.push('\n');
        out.push_str(&decl);
    }
    out
}

/// `T`'s doc comment and `export type T = ...;`.
fn declaration<T: TS>(cfg: &ts_rs::Config) -> String {
    let mut out = T::docs().unwrap_or_default();
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push('\n');
    out
}

/// An error response: a status and [`ErrorBody`].
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
        (
            self.status,
            Json(ErrorBody {
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

impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        let status = match &error {
            CallError::Guest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CallError::InputTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ if error.is_input_error() => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, boundary_host::error::one_line(&error))
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
    let Json(input) = body?;
    let start = Instant::now();
    let Called { value, traffic } = pool.transform(&input).await?;
    let elapsed_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    Ok(Json(TransformResponse {
        path: pool.guest().name().to_owned(),
        output: value,
        traffic: traffic.into(),
        elapsed_us,
    }))
}
