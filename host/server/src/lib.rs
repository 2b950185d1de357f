//! The web server behind `boundary serve`: the web app, its to-do API, and server-side
//! transforms on every registered path. [`serve`] runs it; [`router`] and [`AppState`] build it
//! in-process (as the tests do).
//!
//! | route | what |
//! |---|---|
//! | `GET /api/todos` | every to-do item, oldest first |
//! | `POST /api/todos` `{"title": "..."}` | creates a pending item: `201` and the item; `507` when the store is at its cap |
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
//! | `500` | the guest breaks its contract, or runs into a limit other than the deadline (memory, stack, fuel, `--max-output-bytes`); the to-do store fails |
//! | `503` | the transform's lane is full (`--max-in-flight` running, `--queue-depth` waiting): answered at once, with `Retry-After: 1` |
//! | `504` | the guest ran past `--deadline-ms` and was stopped, input valid or not |
//! | `507` | the to-do store holds `--max-todos` items, or a new title would take its titles past `--max-todo-bytes`: nothing is stored, nothing stored is lost, and deleting an item makes room; or the database's disk is full |
//!
//! A failed guest call is classified by the library ([`boundary_host::CallError::fault`]);
//! [`error::status_of`] maps the class to its status.
//!
//! Files under `/assets/` carry a content hash in their names (Vite puts it there), so they are
//! cached for a year as immutable; everything else, `index.html` first, is revalidated on every
//! use. `.wasm` files are served as `application/wasm`, which `WebAssembly.compileStreaming`
//! requires.
//!
//! The API's TypeScript types (`web/src/api-types.ts`) are generated from the serde types of
//! [`api`] by [`typescript_api`]; a test fails when the committed file differs.
//!
//! # The to-do store
//!
//! The items live behind one interface, [`TodoStore`]: each request is one call, which happens
//! whole or not at all, and the cap ([`TodoCap`]) is checked inside it. [`Storage`] picks the
//! store: an SQLite database file ([`SqliteStore`], the default of `boundary serve`, at
//! [`store::default_db_path`] unless `--db PATH` says otherwise), or memory ([`MemoryStore`],
//! `--db :memory:`). The database runs in WAL mode with `synchronous=FULL`: a `201` is answered
//! after its transaction is on the disk, so it survives a crash of the process, and a power
//! loss as far as the disk honours fsync (the module doc of `store/sqlite.rs` says more). To
//! start over, stop the server and delete the file with its `-wal` and `-shm`.
//!
//! # The files
//!
//! | file | job |
//! |---|---|
//! | `admission.rs` | the two lanes, their bounds and refusals, the threads they run on: no HTTP |
//! | `api.rs` | the JSON types and their TypeScript |
//! | `error.rs` | error responses, and the status of each failure |
//! | `store/` | the to-do store's interface, cap and errors (`mod.rs`); the in-memory store (`memory.rs`); the SQLite store, its schema and what it refuses to open (`sqlite.rs`) |
//! | `todos.rs` | the to-do routes over the store |
//! | `transform.rs` | the transform route |
//! | `routes.rs` | the router, static files and caching |
//! | `state.rs` | what the handlers share |
//! | `dist.rs` | finding the built web app |
//! | `os.rs` | thread priority, glibc's allocator |
//!
//! # Guest calls, cores and lanes
//!
//! A wasm call never yields to the async executor, so no guest call runs on it. Each transform
//! runs on a blocking thread: its JSON is parsed there, the guest is called there (the pool's
//! call driven to completion on that thread), and the response is serialised there, so the
//! executor's threads only move bytes and a 7 MiB body never stalls them. The operating
//! system's scheduler shares the cores between those threads, which is what lets every core
//! work and a short call start within a scheduler slice of arriving.
//!
//! Transforms are admitted into one of two lanes by their `Content-Length` ([`admission`]):
//! bodies up to [`SMALL_BODY`] go to the small lane, the rest (and bodies of unknown length) to
//! the large lane. Each lane runs at most `--max-in-flight` calls at once (default: one per core)
//! and lets at most `--queue-depth` more wait; a request beyond that is answered `503` at once,
//! before its body is read. A small request therefore never waits behind large ones: at worst it
//! waits for other small ones. Large transforms run on threads of their own at a lower priority
//! ([`LARGE_LANE_NICE`]), so that when both lanes want the cores the kernel favours the small
//! ones, and large ones still use every core when no small one is waiting. The pools hold at most
//! one instance per running call; an instance whose memory grew past [`MAX_IDLE_GUEST_MEMORY`]
//! on a large record is dropped after its call, and the allocator's free pages go back to the
//! kernel when the large lane is idle ([`os::memory`]), so a burst of large records does not
//! keep its memory.
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

pub mod admission;
pub mod api;
mod dist;
pub mod error;
pub mod os;
mod routes;
mod state;
pub mod store;
mod todos;
mod transform;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use boundary_host::{CallError, LoadError, Runtime};

pub use admission::{
    Capacity, DEFAULT_QUEUE_DEPTH, LARGE_LANE_NICE, Lane, LaneLoad, RETRY_AFTER_SECS, SMALL_BODY,
};
pub use api::{
    CallTraffic, ErrorBody, MAX_TITLE_CHARS, NewTodo, Status, Todo, TransformResponse,
    typescript_api,
};
pub use dist::{check_dist, dist_candidates, find_dist};
pub use routes::{IMMUTABLE, MAX_TODO_BODY, MAX_TRANSFORM_BODY, REVALIDATE, router};
pub use state::{AppState, MAX_IDLE_GUEST_MEMORY};
pub use store::{MemoryStore, OpenError, SqliteStore, StoreError, TodoCap, TodoStore};

/// How the server runs: where it listens, and its bounds.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// The built web app.
    pub dist: PathBuf,
    /// Transforms running and waiting, per lane.
    pub capacity: Capacity,
    /// The to-do store's cap.
    pub todo_cap: TodoCap,
    /// Where the to-do items live.
    pub storage: Storage,
}

/// Where the to-do items live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// In memory, seeded afresh at each start ([`MemoryStore`]): `--db :memory:`.
    Memory,
    /// In this SQLite database file, created (and seeded) if missing ([`SqliteStore`]).
    Sqlite(PathBuf),
}

impl Storage {
    /// The store, under `cap`.
    ///
    /// # Errors
    ///
    /// [`OpenError`] when the database cannot be opened as a to-do store.
    pub fn open(&self, cap: TodoCap) -> Result<Box<dyn TodoStore>, OpenError> {
        Ok(match self {
            Self::Memory => Box::new(MemoryStore::seeded(cap)),
            Self::Sqlite(path) => Box::new(SqliteStore::open(path, cap)?),
        })
    }
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
    /// The to-do database could not be opened.
    #[error(transparent)]
    Store(#[from] OpenError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The server failed while running.
    #[error("the server failed")]
    Io(#[from] std::io::Error),
}

/// `a not found`, `a and b not found`.
fn not_found(tried: &[PathBuf]) -> String {
    let names: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    format!("{} not found", or_list(&names, "and"))
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// Serves as [`run`] does, on a multi-thread async runtime with one worker per core, until
/// interrupted.
///
/// # Errors
///
/// [`ServeError::Runtime`] if the async runtime cannot start, else as [`run`].
pub fn serve(runtime: &Runtime, options: Options) -> Result<(), ServeError> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?
        .block_on(run(runtime, options))
}

/// Loads every registered path's guest, binds the address, prints `serving http://ADDR/` on
/// standard output, and serves the web app and the API until interrupted.
///
/// # Errors
///
/// [`ServeError`] when the server cannot start, or fails while running.
pub async fn run(runtime: &Runtime, options: Options) -> Result<(), ServeError> {
    let Options {
        addr,
        dist,
        capacity,
        todo_cap,
        storage,
    } = options;
    os::memory::configure();
    // First: a database that cannot be opened is the user's to fix, and quick to find.
    let store = storage.open(todo_cap)?;
    let state = AppState::new(runtime, capacity)
        .await?
        .with_boxed_store(store);
    let app = router(state, &dist);
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
