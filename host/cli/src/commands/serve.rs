//! `boundary serve`: the web app, its to-do API, and server-side transforms on every registered
//! path. The server is `boundary_server` (its crate doc has the routes, the statuses and the
//! lanes); this command reads its flags, finds the web app, and runs it.

use std::net::SocketAddr;
use std::path::PathBuf;

use boundary_host::Runtime;
use boundary_server::{
    Capacity, DEFAULT_QUEUE_DEPTH, Options, ServeError, Storage, TodoCap, store,
};

use super::LimitArgs;
use crate::failure::Failure;

/// The `--db` value that keeps the to-do items in memory.
const MEMORY: &str = ":memory:";

/// Flags of `boundary serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "A transform is answered 503 with Retry-After at once when its lane is full, and 504 \
                  when the guest runs past --deadline-ms; an error names the flag of the limit it hit. \
                  A new to-do item past --max-todos or --max-todo-bytes is answered 507, and nothing \
                  stored is lost."
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
    /// To-do items the server keeps at most. Past that, a new item is answered 507.
    #[arg(long, value_name = "N", default_value_t = store::DEFAULT_MAX_TODOS as u32, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_todos: u32,
    /// Bytes of to-do titles (UTF-8) the server keeps at most, over every item. Past that, a new
    /// item is answered 507.
    #[arg(long, value_name = "BYTES", default_value_t = store::DEFAULT_MAX_TODO_BYTES, value_parser = clap::value_parser!(u64).range(1..=(1 << 40)))]
    pub max_todo_bytes: u64,
    /// The to-do database: an SQLite file, created with a few items if missing, kept across
    /// restarts. `:memory:` keeps the items in memory instead, afresh at each start. Delete the
    /// file (and its `-wal` and `-shm` beside it) to start over [default:
    /// $BOUNDARY_DATA_DIR/todos.sqlite3, else $XDG_DATA_HOME/wasm-boundary/todos.sqlite3, else
    /// ~/.local/share/wasm-boundary/todos.sqlite3].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Limits every guest call runs under.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Serves the web app and the API until interrupted, on a multi-thread runtime with one worker
/// per core.
///
/// # Errors
///
/// Exit 2 for a missing web app, an address that cannot be bound, or a to-do database that
/// cannot be opened (one line naming what was tried, or the cause once); exit 1 if an embedded guest does not load or run, or the server
/// fails while running.
pub fn execute(args: Args) -> Result<(), Failure> {
    let dist = match &args.dist {
        Some(dist) => boundary_server::check_dist(dist),
        None => {
            let cwd = std::env::current_dir().map_err(|e| {
                Failure::Input(anyhow::Error::new(e).context("cannot read the current directory"))
            })?;
            boundary_server::find_dist(&boundary_server::dist_candidates(&cwd))
        }
    }
    .map_err(failure)?;
    let storage = match &args.db {
        Some(db) if db.as_os_str() == MEMORY => Storage::Memory,
        Some(db) => Storage::Sqlite(db.clone()),
        None => Storage::Sqlite(store::default_db().map_err(|e| failure(e.into()))?),
    };
    let runtime = Runtime::new(args.limits.limits())?;
    let options = Options {
        addr: args.addr,
        dist,
        capacity: Capacity {
            max_in_flight: args
                .max_in_flight
                .map_or_else(|| Capacity::per_core().max_in_flight, |n| n as usize),
            queue_depth: args.queue_depth as usize,
        },
        todo_cap: TodoCap {
            max_items: args.max_todos as usize,
            max_bytes: args.max_todo_bytes,
        },
        storage,
    };
    boundary_server::serve(&runtime, options).map_err(failure)
}

/// Exit 2 for what the user can fix (the web app, the address, the database), 1 for the rest.
fn failure(error: ServeError) -> Failure {
    match error {
        ServeError::DistMissing { .. } | ServeError::Bind { .. } | ServeError::Store(_) => {
            Failure::Input(anyhow::Error::new(error))
        }
        ServeError::Load { .. }
        | ServeError::Start { .. }
        | ServeError::Runtime(_)
        | ServeError::Io(_) => Failure::Guest(anyhow::Error::new(error)),
    }
}
