//! [`SqliteStore`]: the to-do items in an SQLite database file, which outlives the server.
//!
//! SQLite is compiled into the binary (`rusqlite`'s `bundled`), so nothing needs installing.
//!
//! **Durability.** The database runs in WAL mode (`journal_mode=WAL`) with `synchronous=FULL`:
//! each commit appends to the write-ahead log and fsyncs it before the call returns, so a `201`
//! (or `200`, `204`) is answered only after its transaction is on the disk. A crash of the
//! server process loses nothing it acknowledged; so does a power loss or an OS crash, as far as
//! the disk honours fsync. (`synchronous=NORMAL` would skip that fsync, and could lose the last
//! commits on power loss, though never on a crash of the process.) Readers never block the one
//! writer, and the log is folded into the main file by SQLite's automatic checkpoints.
//!
//! **One transaction per request.** Listing, marking done and deleting are one statement each
//! (autocommit). Creating is `BEGIN IMMEDIATE`, the cap's check, the insert, `COMMIT`: the write
//! lock is taken first, so no two creates can both see room for the last item. The store holds
//! one connection behind a lock, so calls run one at a time in the order they take it.
//!
//! **Ids** are `INTEGER PRIMARY KEY AUTOINCREMENT`: never reused, even after the newest item
//! is deleted.
//!
//! **The schema** carries its version in a table of its own (`schema_version`), and the server
//! migrates an older database forward in one transaction when it opens it ([`MIGRATIONS`]).
//!
//! **Opening refuses, and leaves the file as it was**, when the file is not an SQLite
//! database, is one of another program, or was written by a newer schema; when its directory is
//! missing or cannot be written, SQLite's own error says so ([`OpenError`]). The checks only
//! read, and run before anything is written.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension as _, TransactionBehavior};

use super::{SEED, StoreError, TodoCap, TodoStore};
use crate::api::{Status, Todo};

/// The schema this server writes: one version per migration.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Step `i` migrates the schema from version `i` to `i + 1`: the first creates it. A new
/// version appends a step, and never edits one that shipped.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the items, and the version.
    "CREATE TABLE schema_version (version INTEGER NOT NULL);
     INSERT INTO schema_version (version) VALUES (0);
     CREATE TABLE todos (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         title TEXT NOT NULL,
         done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1))
     );",
];

/// How long a call waits for another process holding the database's write lock.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a database could not be opened as a to-do store. Every message ends with `(--db)`.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file exists and is not an SQLite database.
    #[error("{} is not an SQLite database; move it away, or pass another file (--db)", path.display())]
    NotSqlite {
        /// The file.
        path: PathBuf,
    },
    /// The file is an SQLite database without this server's tables.
    #[error(
        "{} is an SQLite database of another program (it has tables, but no schema_version); \
         pass another file (--db)", path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The database was written by a newer schema than this server knows.
    #[error(
        "{} holds schema version {found}, newer than the {SCHEMA_VERSION} this boundary knows; \
         run a newer boundary, or pass another file (--db)", path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
    /// The directory the file is to be in does not exist.
    #[error("cannot create {}: the directory {} does not exist (--db)", path.display(), dir.display())]
    NoDirectory {
        /// The file.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
    /// No data directory is known for the default database.
    #[error(
        "no data directory for the to-do database ($BOUNDARY_DATA_DIR, $XDG_DATA_HOME and $HOME \
         are unset): pass a file, or :memory: (--db)"
    )]
    NoDataDir,
    /// The default database's directory could not be created.
    #[error("cannot create the data directory {} (--db)", dir.display())]
    DataDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open, read, set up or migrate the file (a read-only directory or file,
    /// a full disk, ...).
    #[error("cannot open the to-do database {} (--db)", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: SqliteCause,
    },
}

/// SQLite's error on one line, with its code once: rusqlite's own repeats the message in its
/// source (`disk I/O error: Error code 778: disk I/O error`).
#[derive(Debug)]
pub struct SqliteCause {
    message: String,
    /// SQLite's code, when it gave one.
    pub code: Option<ErrorCode>,
}

impl std::fmt::Display for SqliteCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqliteCause {}

impl From<rusqlite::Error> for SqliteCause {
    fn from(error: rusqlite::Error) -> Self {
        let code = error.sqlite_error_code();
        let message = match &error {
            rusqlite::Error::SqliteFailure(failure, detail) => {
                let described = failure.to_string();
                match detail {
                    Some(detail) if !described.contains(detail.as_str()) => {
                        format!("{detail} ({described})")
                    }
                    _ => described,
                }
            }
            other => other.to_string(),
        };
        Self { message, code }
    }
}

/// The to-do items in an SQLite database, bounded by a [`TodoCap`].
#[derive(Debug)]
pub struct SqliteStore {
    cap: TodoCap,
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (with the [`SEED`] items that fit under
    /// `cap`) if the file does not exist, and migrating it if its schema is older.
    ///
    /// # Errors
    ///
    /// [`OpenError`]; the file is then as it was.
    pub fn open(path: &Path, cap: TodoCap) -> Result<Self, OpenError> {
        let sqlite = |error| OpenError::Sqlite {
            path: path.to_owned(),
            source: SqliteCause::from(error),
        };
        let exists = path.exists();
        if !exists {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            if !dir.is_dir() {
                return Err(OpenError::NoDirectory {
                    path: path.to_owned(),
                    dir: dir.to_owned(),
                });
            }
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !exists {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let opened = (|| {
            let mut connection = Connection::open_with_flags(path, flags).map_err(sqlite)?;
            // Only reads until the file is known to be ours; dropping the connection on a
            // refusal removes any `-wal` and `-shm` files reading made.
            let version = existing_version(&connection, path)?;
            configure(&connection).map_err(sqlite)?;
            migrate(&mut connection, version, cap).map_err(sqlite)?;
            Ok(connection)
        })();
        match opened {
            Ok(connection) => Ok(Self {
                cap,
                connection: Mutex::new(connection),
            }),
            Err(error) => {
                if !exists {
                    remove_new_database(path);
                }
                Err(error)
            }
        }
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-call leaves no transaction open (rusqlite rolls back a dropped one).
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Removes what a failed creation left at `path` (on a full disk, an empty file), so that the
/// directory is as it was. Best effort: what cannot be removed stays.
fn remove_new_database(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::remove_file(file).ok();
    }
}

/// The schema version of the database at `path` (0 for an empty one), read without writing.
fn existing_version(connection: &Connection, path: &Path) -> Result<i64, OpenError> {
    let read = || -> rusqlite::Result<(i64, Option<i64>)> {
        let tables: i64 = connection.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |row| row.get(0),
        )?;
        let has_version: bool = connection.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'",
            [],
            |row| row.get(0),
        )?;
        let version = if has_version {
            connection
                .query_row("SELECT max(version) FROM schema_version", [], |row| {
                    row.get::<_, Option<i64>>(0)
                })
                .optional()?
                .flatten()
        } else {
            None
        };
        Ok((tables, version))
    };
    match read() {
        Ok((0, _)) => Ok(0),
        Ok((_, None)) => Err(OpenError::Foreign {
            path: path.to_owned(),
        }),
        Ok((_, Some(found))) if found > SCHEMA_VERSION => Err(OpenError::NewerSchema {
            path: path.to_owned(),
            found,
        }),
        Ok((_, Some(version))) => Ok(version),
        Err(error) if error.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            Err(OpenError::NotSqlite {
                path: path.to_owned(),
            })
        }
        Err(error) => Err(OpenError::Sqlite {
            path: path.to_owned(),
            source: SqliteCause::from(error),
        }),
    }
}

/// WAL, fsync on every commit, and a wait for another writer: see the module doc.
fn configure(connection: &Connection) -> rusqlite::Result<()> {
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!(
                "the database stays in journal mode {mode}, not WAL"
            )),
        ));
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(BUSY_TIMEOUT)
}

/// Runs the migrations from `version` on, in one transaction; a new database also gets the seed.
fn migrate(connection: &mut Connection, version: i64, cap: TodoCap) -> rusqlite::Result<()> {
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for step in &MIGRATIONS[usize::try_from(version).unwrap_or(0)..] {
        tx.execute_batch(step)?;
    }
    tx.execute("UPDATE schema_version SET version = ?1", [SCHEMA_VERSION])?;
    if version == 0 {
        for (title, status) in SEED {
            if insert(&tx, cap, title, status).is_err() {
                break;
            }
        }
    }
    tx.commit()
}

/// Inserts an item after checking the cap, inside the caller's transaction.
fn insert(
    connection: &Connection,
    cap: TodoCap,
    title: &str,
    status: Status,
) -> Result<Todo, StoreError> {
    let (items, bytes): (i64, i64) = connection
        .query_row(
            "SELECT count(*), coalesce(sum(length(CAST(title AS BLOB))), 0) FROM todos",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(backend)?;
    cap.check(
        usize::try_from(items).unwrap_or(usize::MAX),
        u64::try_from(bytes).unwrap_or(u64::MAX),
        title.len(),
    )?;
    let id: i64 = connection
        .query_row(
            "INSERT INTO todos (title, done) VALUES (?1, ?2) RETURNING id",
            (title, status == Status::Done),
            |row| row.get(0),
        )
        .map_err(backend)?;
    Ok(Todo {
        id: id.cast_unsigned(),
        title: title.to_owned(),
        status,
    })
}

/// SQLite's error as the store's: a full disk (or a file over its size limit) apart.
fn backend(error: rusqlite::Error) -> StoreError {
    if error.sqlite_error_code() == Some(ErrorCode::DiskFull) {
        StoreError::NoSpace(SqliteCause::from(error).into())
    } else {
        StoreError::Backend(SqliteCause::from(error).into())
    }
}

/// A row of `todos`.
fn todo(row: &rusqlite::Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo {
        id: row.get::<_, i64>(0)?.cast_unsigned(),
        title: row.get(1)?,
        status: if row.get(2)? {
            Status::Done
        } else {
            Status::Pending
        },
    })
}

/// An id as SQLite stores it; one past `i64::MAX` names no row.
fn row_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::NotFound(id))
}

impl TodoStore for SqliteStore {
    fn list(&self) -> Result<Vec<Todo>, StoreError> {
        let connection = self.connection();
        let mut statement = connection
            .prepare("SELECT id, title, done FROM todos ORDER BY id")
            .map_err(backend)?;
        statement
            .query_map([], todo)
            .and_then(Iterator::collect)
            .map_err(backend)
    }

    fn create(&self, title: &str) -> Result<Todo, StoreError> {
        let mut connection = self.connection();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        // On a refusal the transaction is dropped, which rolls it back: nothing was written.
        let todo = insert(&tx, self.cap, title, Status::Pending)?;
        tx.commit().map_err(backend)?;
        Ok(todo)
    }

    fn mark_done(&self, id: u64) -> Result<Todo, StoreError> {
        let connection = self.connection();
        connection
            .query_row(
                "UPDATE todos SET done = 1 WHERE id = ?1 RETURNING id, title, done",
                [row_id(id)?],
                todo,
            )
            .optional()
            .map_err(backend)?
            .ok_or(StoreError::NotFound(id))
    }

    fn delete(&self, id: u64) -> Result<(), StoreError> {
        let connection = self.connection();
        let deleted = connection
            .execute("DELETE FROM todos WHERE id = ?1", [row_id(id)?])
            .map_err(backend)?;
        if deleted == 0 {
            return Err(StoreError::NotFound(id));
        }
        Ok(())
    }

    fn cap(&self) -> TodoCap {
        self.cap
    }
}

/// [`default_db_path`], with its directory created if it is missing.
///
/// # Errors
///
/// [`OpenError::NoDataDir`] when no directory is known, [`OpenError::DataDir`] when it cannot be
/// created.
pub fn default_db() -> Result<PathBuf, OpenError> {
    let path = default_db_path().ok_or(OpenError::NoDataDir)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::DataDir {
            dir: dir.to_owned(),
            source,
        })?;
    }
    Ok(path)
}

/// Where the to-do database lives when `--db` is not given:
/// `$BOUNDARY_DATA_DIR/todos.sqlite3`, else `$XDG_DATA_HOME/wasm-boundary/todos.sqlite3`, else
/// `~/.local/share/wasm-boundary/todos.sqlite3`; `None` when none of those is known.
pub fn default_db_path() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    let dir = var("BOUNDARY_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| var("XDG_DATA_HOME").map(|dir| PathBuf::from(dir).join("wasm-boundary")))
        .or_else(|| {
            var("HOME").map(|home| PathBuf::from(home).join(".local/share/wasm-boundary"))
        })?;
    Some(dir.join("todos.sqlite3"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn cap(max_items: usize) -> TodoCap {
        TodoCap {
            max_items,
            max_bytes: 1 << 20,
        }
    }

    #[test]
    fn a_new_database_is_seeded_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("todos.sqlite3");
        let store = SqliteStore::open(&path, cap(100)).expect("opens");
        assert_eq!(store.list().unwrap().len(), SEED.len());
        let connection = store.connection();
        let version: i64 = connection
            .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let synchronous: i64 = connection
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(synchronous, 2, "FULL");
    }

    #[test]
    fn ids_are_never_reused_and_the_cap_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("todos.sqlite3");
        let store = SqliteStore::open(&path, cap(SEED.len() + 1)).expect("opens");
        let newest = store.create("newest").unwrap();
        let full = store.create("more").expect_err("full");
        assert!(matches!(full, StoreError::Full(_)), "{full}");
        store.delete(newest.id).unwrap();
        let next = store.create("next").unwrap();
        assert!(next.id > newest.id);
        assert!(matches!(
            store.delete(newest.id),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.mark_done(u64::MAX),
            Err(StoreError::NotFound(u64::MAX))
        ));
        assert_eq!(store.mark_done(next.id).unwrap().status, Status::Done);
    }
}
