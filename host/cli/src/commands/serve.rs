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
//! Errors are `{"error": "..."}` ([`ErrorBody`]), the cause chain on one line. A message about a
//! limit ends with the flag that sets it, as the command line's do: `(--deadline-ms)`.
//!
//! | status | when |
//! |---|---|
//! | `400` | input that does not parse or validate, or cannot be encoded for the guest |
//! | `404` | an unknown id or API route |
//! | `405` | a method a route does not take (with `Allow`) |
//! | `413` | a body over the route's cap, or a record over `--max-input-bytes` |
//! | `422` | the guest refuses the record (an error it reports through the contract) |
//! | `500` | the guest breaks its contract, or runs into a limit other than the deadline (memory, stack, fuel, `--max-output-bytes`) |
//! | `503` | the transform's lane is full (`--max-in-flight` running, `--queue-depth` waiting): answered at once, with `Retry-After: 1` |
//! | `504` | the guest ran past `--deadline-ms` and was stopped, input valid or not |
//!
//! Files under `/assets/` carry a content hash in their names (Vite puts it there), so they are
//! cached for a year as immutable; everything else, `index.html` first, is revalidated on every
//! use. `.wasm` files are served as `application/wasm`, which `WebAssembly.compileStreaming`
//! requires.
//!
//! The API's TypeScript types (`web/src/api-types.ts`) are generated from the serde types here
//! by [`typescript_api`]; a test fails when the committed file differs.
//!
//! # Guest calls, cores and lanes
//!
//! A wasm call never yields to the async executor, so no guest call runs on it. Each transform
//! runs on a blocking thread (`tokio::task::spawn_blocking`): its JSON is parsed there, the guest
//! is called there (the pool's call driven to completion on that thread), and the response is
//! serialised there, so the executor's threads only move bytes and a 7 MiB body never stalls
//! them. The operating system's scheduler shares the cores between those threads, which is what
//! lets every core work and a short call start within a scheduler slice of arriving.
//!
//! Transforms are admitted into one of two lanes by their `Content-Length`: bodies up to
//! [`SMALL_BODY`] go to the small lane, the rest (and bodies of unknown length) to the large lane.
//! Each lane runs at most `--max-in-flight` calls at once (default: one per core) and lets at most
//! `--queue-depth` more wait; a request beyond that is answered `503` at once, before its body is
//! read. A small request therefore never waits behind large ones: at worst it waits for other
//! small ones. Large transforms run on threads of their own at a lower priority
//! ([`LARGE_LANE_NICE`]), so that when both lanes want the cores the kernel favours the small
//! ones, and large ones still use every core when no small one is waiting. The pools hold at most
//! one instance per running call; an instance whose memory grew past [`MAX_IDLE_GUEST_MEMORY`]
//! on a large record is dropped after its call, and the allocator's free pages go back to the
//! kernel when the large lane is idle ([`memory`]), so a burst of large records does not keep
//! its memory.
//!
//! Why not let long calls yield (`epoch_deadline_async_yield_and_update`) and stay on the
//! executor? Yielding time-slices calls by epoch ticks (10 ms): with eight large calls on two
//! executor threads, a small one waits its turn behind up to four ticks each time it runs, at the
//! edge of the 50 ms the server aims for, while a thread the kernel wakes gets a core within a
//! slice of a millisecond or so. Parsing and serialising large JSON bodies would still block the
//! executor, and the deadline would have to count only the ticks a call ran. The cost of threads:
//! the deadline is wall-clock time, and a call that shares a core with others takes longer than
//! alone: with both lanes full, up to `2 × --max-in-flight / cores` times (2× at the defaults).
//! That bound is one reason the lanes are bounded.
//!
//! Load it by hand with `wrk` (`wrk -t2 -c32 -d10s -s post.lua http://127.0.0.1:8080/api/transform?path=component`,
//! `post.lua` setting `wrk.method = "POST"`, the body and `Content-Type: application/json`), and
//! read the cores it used from `/proc/PID/stat` (utime + stime over the wall time).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest as _, OriginalUri, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router, extract};
use boundary_host::{
    AnyGuest, CallError, Called, LoadError, Pool, Runtime, SomeDataStruct, Traffic,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use ts_rs::TS;

use super::LimitArgs;
use crate::failure::{self, Failure};

/// The largest body the to-do routes accept.
pub const MAX_TODO_BODY: usize = 16 << 10;
/// The largest body `POST /api/transform` accepts: room for a record of a few MiB as JSON.
pub const MAX_TRANSFORM_BODY: usize = 8 << 20;
/// The longest to-do title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The largest `Content-Length` of a transform that runs in the small lane.
pub const SMALL_BODY: u64 = 64 << 10;
/// An instance whose linear memory grew past this is dropped after its call, not kept in the pool.
pub const MAX_IDLE_GUEST_MEMORY: usize = 16 << 20;
/// The `Retry-After` of a `503`, in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;
/// The default of `--queue-depth`.
pub const DEFAULT_QUEUE_DEPTH: usize = 32;

/// `Cache-Control` for files whose names change with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` for everything else: use it, but ask the server first.
pub const REVALIDATE: &str = "no-cache";

/// Flags of `boundary serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "A transform is answered 503 with Retry-After at once when its lane is full, and 504 \
                  when the guest runs past --deadline-ms; an error names the flag of the limit it hit."
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The built web app to serve (`just web` builds it). By default `web/dist` under the current
    /// directory, else under the repository this binary was built from.
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Transforms that run at once, per lane (bodies up to 64 KiB run in the small lane, larger
    /// ones in the large lane, each on its own thread) [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_in_flight: Option<u32>,
    /// Transforms that may wait for a running one to finish, per lane. Past that the server
    /// answers 503 with Retry-After at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_QUEUE_DEPTH as u32, value_parser = clap::value_parser!(u32).range(0..=65536))]
    pub queue_depth: u32,
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
    let capacity = Capacity {
        max_in_flight: args.max_in_flight.map_or(workers, |n| n as usize),
        queue_depth: args.queue_depth as usize,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::Guest(anyhow::Error::new(e).context("cannot start the async runtime"))
        })?
        .block_on(run(&runtime, args.addr, &dist, capacity))
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
/// output, and serves `dist` and the API until interrupted, with `capacity` in each lane.
///
/// # Errors
///
/// [`ServeError`] when the server cannot start, or fails while running.
pub async fn run(
    runtime: &Runtime,
    addr: SocketAddr,
    dist: &Path,
    capacity: Capacity,
) -> Result<(), ServeError> {
    memory::configure();
    let state = AppState::new(runtime, capacity).await?;
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

/// The app: the API under `/api`, and `dist` for everything else. Pass an `Arc<AppState>` to keep
/// a handle on the state (to watch its lanes).
pub fn router(state: impl Into<Arc<AppState>>, dist: &Path) -> Router {
    let state: Arc<AppState> = state.into();
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

/// How many transforms run at once and how many may wait, in each lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Transforms that run at once (at least one): `--max-in-flight`.
    pub max_in_flight: usize,
    /// Transforms that may wait for one of those to finish: `--queue-depth`.
    pub queue_depth: usize,
}

impl Capacity {
    /// One running transform per core, and [`DEFAULT_QUEUE_DEPTH`] waiting.
    pub fn per_core() -> Self {
        Self {
            max_in_flight: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            queue_depth: DEFAULT_QUEUE_DEPTH,
        }
    }
}

/// The lane a transform runs in, chosen by the size its request declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Bodies of at most [`SMALL_BODY`] bytes.
    Small,
    /// Larger bodies, and bodies of unknown length.
    Large,
}

impl Lane {
    /// The lane of a request with these headers: by its `Content-Length`.
    pub fn of(headers: &HeaderMap) -> Self {
        let len = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        match len {
            Some(len) if len <= SMALL_BODY => Self::Small,
            _ => Self::Large,
        }
    }

    /// `small` or `large`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Large => "large",
        }
    }
}

/// What one lane is doing now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneLoad {
    /// Transforms admitted and not finished: running, waiting for a turn, or reading their body.
    pub admitted: usize,
    /// Transforms on a blocking thread now.
    pub running: usize,
    /// The most that were ever on a blocking thread at once.
    pub peak_running: usize,
    /// Requests refused with `503` so far.
    pub refused: usize,
}

/// One lane's bounds: tickets for admission (running and waiting), permits for running.
#[derive(Debug)]
struct LaneGate {
    lane: Lane,
    capacity: Capacity,
    tickets: Arc<Semaphore>,
    turns: Arc<Semaphore>,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    refused: AtomicUsize,
}

impl LaneGate {
    fn new(lane: Lane, capacity: Capacity) -> Self {
        Self {
            lane,
            capacity,
            tickets: Arc::new(Semaphore::new(
                capacity.max_in_flight.saturating_add(capacity.queue_depth),
            )),
            turns: Arc::new(Semaphore::new(capacity.max_in_flight)),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    /// A ticket to run or wait, or a `503` at once when the lane is full.
    fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.tickets.clone().try_acquire_owned().map_err(|_| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            let Capacity {
                max_in_flight,
                queue_depth,
            } = self.capacity;
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server is busy: {max_in_flight} transforms of the {} lane are running \
                     and {queue_depth} waiting (--max-in-flight, --queue-depth); retry after \
                     {RETRY_AFTER_SECS} s",
                    self.lane.name()
                ),
            )
            .retry_after(RETRY_AFTER_SECS)
        })
    }

    /// Waits for a turn to run.
    async fn turn(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.turns.clone().acquire_owned().await.map_err(|_| {
            // The semaphore is never closed.
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the lane was closed")
        })
    }

    fn load(&self) -> LaneLoad {
        let total = self
            .capacity
            .max_in_flight
            .saturating_add(self.capacity.queue_depth);
        LaneLoad {
            admitted: total.saturating_sub(self.tickets.available_permits()),
            running: self.running.load(Ordering::Relaxed),
            peak_running: self.peak_running.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

/// Counts a transform as running while it lives.
struct Running<'a>(&'a LaneGate);

impl<'a> Running<'a> {
    fn start(gate: &'a LaneGate) -> Self {
        let now = gate.running.fetch_add(1, Ordering::Relaxed) + 1;
        gate.peak_running.fetch_max(now, Ordering::Relaxed);
        Self(gate)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a transform's blocking thread calls before the guest: see [`AppState::on_guest_call`].
type GuestCallHook = Arc<dyn Fn(Lane) + Send + Sync>;

/// What the handlers share: the to-do store, one instance pool per registered path, and the two
/// lanes transforms run in.
pub struct AppState {
    todos: Mutex<Todos>,
    /// In registration order.
    pools: Vec<Pool<AnyGuest>>,
    small: LaneGate,
    large: LaneGate,
    hook: Option<GuestCallHook>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("pools", &self.pools)
            .field("small", &self.small)
            .field("large", &self.large)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Compiles and links every registered path's embedded guest once, then as
    /// [`AppState::with_guests`].
    ///
    /// # Errors
    ///
    /// [`ServeError::Load`] or [`ServeError::Start`] if an embedded guest does not work.
    pub async fn new(runtime: &Runtime, capacity: Capacity) -> Result<Self, ServeError> {
        let mut guests = Vec::new();
        for path in boundary_guests::paths() {
            guests.push(
                path.load_default(runtime)
                    .map_err(|source| ServeError::Load {
                        path: path.name(),
                        source,
                    })?,
            );
        }
        Self::with_guests(guests, capacity).await
    }

    /// Serves `guests` (one per path name; `POST /api/transform?path=NAME` picks by name),
    /// checks that each answers a call (which leaves one idle instance in its pool), and starts
    /// the to-do store with a few items. Each pool keeps one idle instance per transform that can
    /// run at once.
    ///
    /// # Errors
    ///
    /// [`ServeError::Start`] if a guest does not answer.
    pub async fn with_guests(
        guests: Vec<AnyGuest>,
        capacity: Capacity,
    ) -> Result<Self, ServeError> {
        let capacity = Capacity {
            max_in_flight: capacity.max_in_flight.max(1),
            ..capacity
        };
        let mut pools = Vec::new();
        for guest in guests {
            let name = guest.name();
            // Both lanes may call the same path at once.
            let pool = Pool::new(guest, 2 * capacity.max_in_flight)
                .with_max_idle_memory(MAX_IDLE_GUEST_MEMORY);
            pool.button_text("DONE")
                .await
                .map_err(|source| ServeError::Start { path: name, source })?;
            pools.push(pool);
        }
        Ok(Self {
            todos: Mutex::new(Todos::seeded()),
            pools,
            small: LaneGate::new(Lane::Small, capacity),
            large: LaneGate::new(Lane::Large, capacity),
            hook: None,
        })
    }

    /// Calls `hook` on a transform's blocking thread, with its lane, once it has its turn and
    /// before it parses its body and calls the guest. Meant for tests that need calls to meet (to
    /// prove they run at once) or to stay running (to fill a lane).
    #[must_use]
    pub fn on_guest_call(mut self, hook: impl Fn(Lane) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// What `lane` is doing now.
    pub fn load(&self, lane: Lane) -> LaneLoad {
        self.gate(lane).load()
    }

    fn gate(&self, lane: Lane) -> &LaneGate {
        match lane {
            Lane::Small => &self.small,
            Lane::Large => &self.large,
        }
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
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u32>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn retry_after(self, secs: u32) -> Self {
        Self {
            retry_after: Some(secs),
            ..self
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
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
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
    /// The status of the module doc's table; a limit's message ends with its flag.
    fn from(error: CallError) -> Self {
        let status = match &error {
            CallError::Guest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CallError::InputTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            CallError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            _ if error.is_input_error() => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut message = boundary_host::error::one_line(&error);
        if let Some(limit) = error.limit() {
            message = format!("{message} ({})", failure::flag(limit));
        }
        Self::new(status, message)
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
    let pool = state
        .pools
        .iter()
        .position(|pool| pool.guest().name() == path)
        .ok_or_else(|| {
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
    let lane = Lane::of(request.headers());
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
        let running = Running::start(gate);
        if let Some(hook) = &shared.hook {
            hook(lane);
        }
        let response = transform_blocking(&runtime, &shared.pools[pool], &body);
        drop((running, turn, ticket, body));
        if lane == Lane::Large && gate.running.load(Ordering::Relaxed) == 0 {
            memory::give_back_freed();
        }
        response
    };
    match lane {
        Lane::Small => tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| thread_failed(&e))?,
        Lane::Large => on_background_thread(job).await,
    }
}

fn thread_failed(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the transform's thread failed: {e}"),
    )
}

/// The nice value a large-lane thread adds to its own: see [`on_background_thread`].
pub const LARGE_LANE_NICE: i32 = 10;

/// Runs `job` on a thread of its own, started for it, whose scheduling priority is
/// [`LARGE_LANE_NICE`] below the server's. When large and small transforms want the same cores,
/// the kernel gives the small ones the larger share (about nine parts in ten at nice 10), so a
/// small request is not slowed by large ones beside it; when no small transform is waiting, the
/// large ones still use every core. A thread per large call costs tens of microseconds against
/// a call of tens of milliseconds.
async fn on_background_thread<T: Send + 'static>(
    job: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("boundary-large".to_owned())
        .spawn(move || {
            lower_this_threads_priority(LARGE_LANE_NICE);
            sender.send(job()).ok();
        })
        .map_err(|e| thread_failed(&format!("cannot start a thread for it: {e}")))?;
    receiver.await.map_err(|_| thread_failed(&"it panicked"))?
}

/// Adds `nice` to the calling thread's nice value. Raising it needs no privilege; where it
/// cannot be done the thread keeps the server's priority, which is still correct, only less
/// fair to small requests.
#[cfg(target_os = "linux")]
fn lower_this_threads_priority(nice: i32) {
    // SAFETY: `getpriority`/`setpriority` take plain integers and touch no memory of ours. On
    // Linux the nice value is a per-thread attribute, and `who == 0` names the calling thread.
    unsafe {
        let current = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, current.saturating_add(nice).min(19));
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority(_nice: i32) {}

/// What the server does about memory the allocator keeps after large requests.
///
/// glibc's `malloc` keeps freed memory in per-thread arenas for reuse, and raises the size above
/// which it maps blocks of their own each time such a block is freed; after a burst of 7 MiB
/// bodies the process stays hundreds of MiB large. [`memory::configure`] fixes that size, so
/// large buffers are unmapped when freed, and [`memory::give_back_freed`] hands free pages back
/// to the kernel (`malloc_trim`) when the large lane goes idle. Elsewhere both do nothing.
pub mod memory {
    /// Blocks at least this large get a mapping of their own, given back when freed.
    pub const MMAP_THRESHOLD: i32 = 1 << 20;

    /// Call once at start-up.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn configure() {
        // SAFETY: `mallopt` changes a tunable of glibc's allocator; it takes integers only and
        // may be called at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }

    /// Gives the free pages of every arena back to the kernel.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn give_back_freed() {
        // SAFETY: `malloc_trim` takes an integer, only releases pages the allocator holds free,
        // and locks each arena while it does.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// Call once at start-up.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn configure() {}

    /// Gives the free pages of every arena back to the kernel.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn give_back_freed() {}
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
    let json = serde_json::to_vec(&response).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot serialise the response: {e}"),
        )
    })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response())
}
