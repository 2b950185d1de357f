//! The SQLite to-do store behind the router: what survives a restart, many clients at once, the
//! cap, and the files it refuses to open (left byte for byte as they were).

use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use boundary_server::store::{OpenError, SCHEMA_VERSION, SEED, SqliteStore};
use boundary_server::{Todo, TodoCap, TodoStore as _};

use crate::support::{app_with_store, assert_causes_once, create, dist, send, todos};

fn cap(max_items: usize) -> TodoCap {
    TodoCap {
        max_items,
        max_bytes: 1 << 20,
    }
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("todos.sqlite3")
}

/// Adds, marks done and deletes through the API; a store opened afresh on the same file (as
/// after a restart) has every change.
#[tokio::test]
async fn every_change_is_there_after_a_restart() {
    let dist = dist();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db(&dir);
    let store = SqliteStore::open(&path, cap(100)).expect("opens");
    let (app, state) = app_with_store(dist.path(), store).await;
    let seeded = todos(&app).await;
    assert_eq!(seeded.len(), SEED.len());
    let a: Todo = serde_json::from_slice(&create(&app, "Grüße 🦀").await.body).expect("an item");
    let b: Todo = serde_json::from_slice(&create(&app, "second").await.body).expect("an item");
    let uri = format!("/api/todos/{}/done", a.id);
    assert_eq!(
        send(&app, Method::POST, &uri, None, false).await.status,
        StatusCode::OK
    );
    let uri = format!("/api/todos/{}", seeded[1].id);
    assert_eq!(
        send(&app, Method::DELETE, &uri, None, false).await.status,
        StatusCode::NO_CONTENT
    );
    let before = todos(&app).await;
    assert_eq!(before.len(), SEED.len() + 1);
    drop((app, state));

    let store = SqliteStore::open(&path, cap(100)).expect("opens again");
    let (app, _state) = app_with_store(dist.path(), store).await;
    let after = todos(&app).await;
    assert_eq!(after, before, "not seeded again, and nothing lost");
    assert!(after.iter().any(|t| t.id == a.id && t.title == "Grüße 🦀"));
    assert!(after.iter().any(|t| t.id == b.id));
    // Ids go on from where they were, even past deleted ones.
    let c: Todo = serde_json::from_slice(&create(&app, "third").await.body).expect("an item");
    assert!(c.id > b.id);
}

/// 32 clients add an item each at once: the count and the ids come out exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_at_once_neither_lose_nor_duplicate() {
    let dist = dist();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&db(&dir), cap(1000)).expect("opens");
    let (app, _state) = app_with_store(dist.path(), store).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let app = app.clone();
        tasks.spawn(async move { create(&app, &format!("client {i}")).await });
    }
    let mut created = Vec::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.expect("a request task");
        assert_eq!(reply.status, StatusCode::CREATED);
        created.push(serde_json::from_slice::<Todo>(&reply.body).expect("an item"));
    }
    let list = todos(&app).await;
    assert_eq!(list.len(), SEED.len() + 32);
    let mut ids: Vec<u64> = list.iter().map(|t| t.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), list.len(), "ids are unique and in order");
    let mut titles: Vec<&str> = created.iter().map(|t| t.title.as_str()).collect();
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(titles.len(), 32);
    for todo in &created {
        assert!(list.contains(todo), "{todo:?}");
    }
}

/// The cap holds in the database: at the cap a create is a 507 and the file keeps what it had;
/// reopened with a smaller cap, nothing is lost and creates wait for deletes.
#[tokio::test]
async fn the_cap_holds_in_the_database_across_restarts() {
    let dist = dist();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db(&dir);
    let store = SqliteStore::open(&path, cap(SEED.len() + 2)).expect("opens");
    let (app, state) = app_with_store(dist.path(), store).await;
    for title in ["four", "five"] {
        assert_eq!(create(&app, title).await.status, StatusCode::CREATED);
    }
    let full = todos(&app).await;
    let reply = create(&app, "six").await;
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(reply.error().ends_with("(--max-todos)"));
    assert_eq!(todos(&app).await, full);
    drop((app, state));

    let store = SqliteStore::open(&path, cap(2)).expect("opens with a smaller cap");
    assert_eq!(
        store.list().expect("list"),
        full,
        "nothing is dropped to fit"
    );
    let (app, _state) = app_with_store(dist.path(), store).await;
    assert_eq!(
        create(&app, "six").await.status,
        StatusCode::INSUFFICIENT_STORAGE
    );
    for todo in &full[..full.len() - 1] {
        let uri = format!("/api/todos/{}", todo.id);
        assert_eq!(
            send(&app, Method::DELETE, &uri, None, false).await.status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(create(&app, "six").await.status, StatusCode::CREATED);
    assert_eq!(todos(&app).await.len(), 2);
}

/// The files beside `path` (SQLite's `-wal`, `-shm`, `-journal`), and `path` itself.
fn files_beside(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().expect("a directory"))
        .expect("lists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Opening `path` fails with `expected`'s message, and the file and its directory are as they
/// were.
fn refused_untouched(path: &Path, expected: impl Fn(&OpenError) -> bool) -> String {
    let bytes = std::fs::read(path).expect("reads");
    let files = files_beside(path);
    let error = SqliteStore::open(path, cap(100)).expect_err("refused");
    assert!(expected(&error), "{error:?}");
    assert_eq!(
        std::fs::read(path).expect("reads"),
        bytes,
        "the file changed"
    );
    assert_eq!(files_beside(path), files, "files appeared beside it");
    let message = boundary_host::error::one_line(&error);
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("(--db)"), "{message}");
    assert_causes_once(&message);
    message
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db(&dir);
    std::fs::write(&path, "a to-do list, but as text\n".repeat(200)).expect("writes");
    let message = refused_untouched(&path, |e| matches!(e, OpenError::NotSqlite { .. }));
    assert!(message.contains("is not an SQLite database"), "{message}");
}

#[test]
fn another_programs_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db(&dir);
    let other = rusqlite::Connection::open(&path).expect("creates");
    other
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .expect("writes");
    drop(other);
    let message = refused_untouched(&path, |e| matches!(e, OpenError::Foreign { .. }));
    assert!(message.contains("another program"), "{message}");
}

#[test]
fn a_newer_schema_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db(&dir);
    drop(SqliteStore::open(&path, cap(100)).expect("creates"));
    let newer = rusqlite::Connection::open(&path).expect("opens");
    newer
        .execute(
            "UPDATE schema_version SET version = ?1",
            [SCHEMA_VERSION + 1],
        )
        .expect("writes");
    drop(newer);
    let message = refused_untouched(
        &path,
        |e| matches!(e, OpenError::NewerSchema { found, .. } if *found == SCHEMA_VERSION + 1),
    );
    assert!(message.contains("run a newer boundary"), "{message}");
}

#[test]
fn a_missing_or_read_only_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no/such/dir/todos.sqlite3");
    let error = SqliteStore::open(&missing, cap(100)).expect_err("refused");
    assert!(matches!(error, OpenError::NoDirectory { .. }), "{error:?}");
    assert!(
        error.to_string().contains("does not exist (--db)"),
        "{error}"
    );
    assert!(!dir.path().join("no").exists(), "nothing was created");

    // /proc takes no new files, even from root.
    let read_only = Path::new("/proc/boundary-todos.sqlite3");
    if Path::new("/proc").is_dir() {
        let error = SqliteStore::open(read_only, cap(100)).expect_err("refused");
        assert!(matches!(error, OpenError::Sqlite { .. }), "{error:?}");
        let message = boundary_host::error::one_line(&error);
        assert!(
            message.starts_with("cannot open the to-do database /proc/"),
            "{message}"
        );
        assert!(
            message.contains("unable to open database file"),
            "{message}"
        );
        assert_causes_once(&message);
        assert!(!read_only.exists());
    }
}
