//! `boundary serve`'s to-do database through the binary: acknowledged items survive SIGKILL,
//! a file it cannot use is one line and exit 2 and left as it was, and `--db :memory:`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use boundary_server::Todo;

use crate::serve::{dist, http, start, try_http};

fn list(url: &str) -> Vec<Todo> {
    let (status, body) = http(url, "GET", "/api/todos", "");
    assert!(status.contains(" 200 "), "{status}: {body}");
    serde_json::from_str(&body).expect("a list of items")
}

fn serve_args<'a>(dist: &'a str, db: &'a str) -> [&'a str; 6] {
    ["--addr", "127.0.0.1:0", "--dist", dist, "--db", db]
}

/// A few pseudo-random numbers for the moments the server is killed at (xorshift, seeded from
/// the clock: a failure prints its seed).
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// A client posts items in a loop while the server is killed (SIGKILL) at a random moment,
/// several times over on one file. After a restart every item that got a 201 is there, with its
/// id and title, and no item is there twice.
#[test]
fn no_acknowledged_item_is_lost_when_the_server_is_killed() {
    const TRIALS: usize = 6;
    let dist = dist();
    let dist_dir = dist.path().to_str().expect("UTF-8");
    let data = tempfile::tempdir().expect("temp dir");
    let db = data.path().join("todos.sqlite3");
    let db = db.to_str().expect("UTF-8");
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| (d.as_secs() << 32 ^ u64::from(d.subsec_nanos())) | 1);
    let mut moments = Moments(seed);
    let mut acknowledged: Vec<Todo> = Vec::new();
    for trial in 0..TRIALS {
        let server = start(dist.path(), &serve_args(dist_dir, db)).expect("serves");
        let url = server.url.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let client = std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0.. {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let body = format!(r#"{{"title":"trial {trial} item {i}"}}"#);
                match try_http(&url, "POST", "/api/todos", &body) {
                    Ok((status, body)) if status.contains(" 201 ") => {
                        acked.push(serde_json::from_str::<Todo>(&body).expect("an item"));
                    }
                    // Killed mid-request, or gone: this item is not acknowledged.
                    Ok(_) | Err(_) => break,
                }
            }
            acked
        });
        std::thread::sleep(Duration::from_millis(10 + moments.next_ms(400)));
        drop(server); // SIGKILL, then wait.
        stop.store(true, Ordering::Relaxed);
        acknowledged.extend(client.join().expect("the client"));
    }
    assert!(
        !acknowledged.is_empty(),
        "no item was acknowledged (seed {seed})"
    );
    eprintln!(
        "{} items acknowledged over {TRIALS} kills (seed {seed})",
        acknowledged.len()
    );

    let server = start(dist.path(), &serve_args(dist_dir, db)).expect("serves again");
    let items = list(&server.url);
    for todo in &acknowledged {
        assert!(items.contains(todo), "{todo:?} lost (seed {seed})");
    }
    let mut titles: Vec<&str> = items.iter().map(|t| t.title.as_str()).collect();
    titles.sort_unstable();
    let all = titles.len();
    titles.dedup();
    assert_eq!(titles.len(), all, "an item is there twice (seed {seed})");
    let mut ids: Vec<u64> = items.iter().map(|t| t.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), all, "(seed {seed})");
}

/// `--db :memory:` keeps today's behaviour: the items are gone after a restart, and no file is
/// written.
#[test]
fn memory_storage_starts_afresh_each_time() {
    let dist = dist();
    let dist_dir = dist.path().to_str().expect("UTF-8");
    let args = serve_args(dist_dir, ":memory:");
    let server = start(dist.path(), &args).expect("serves");
    let seeded = list(&server.url);
    let (status, _) = http(
        &server.url,
        "POST",
        "/api/todos",
        r#"{"title":"gone soon"}"#,
    );
    assert!(status.contains(" 201 "), "{status}");
    drop(server);
    let server = start(dist.path(), &args).expect("serves again");
    assert_eq!(list(&server.url), seeded);
    assert!(!dist.path().join(":memory:").exists());
}

/// Through the binary, what the store cannot use is one line naming the file and `--db`,
/// exit 2, before the server listens, and the file is byte for byte as it was.
#[test]
fn a_database_it_cannot_use_is_one_line_and_exit_2() {
    let dist = dist();
    let dist_dir = dist.path().to_str().expect("UTF-8");
    let data = tempfile::tempdir().expect("temp dir");
    let text = data.path().join("notes.txt");
    std::fs::write(&text, "not a database\n").expect("writes");
    let missing = data.path().join("missing/todos.sqlite3");
    for (db, expected) in [
        (text.as_path(), "is not an SQLite database"),
        (missing.as_path(), "does not exist"),
        (
            Path::new("/proc/boundary-todos.sqlite3"),
            "cannot open the to-do database",
        ),
    ] {
        let before = std::fs::read(db).ok();
        let db_arg = db.to_str().expect("UTF-8");
        let (code, stderr) = match start(dist.path(), &serve_args(dist_dir, db_arg)) {
            Ok(_) => panic!("served with --db {db_arg}"),
            Err(failed) => failed,
        };
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(expected), "{db_arg}: {stderr}");
        assert!(
            stderr.contains(db_arg) && stderr.contains("(--db)"),
            "{stderr}"
        );
        assert_eq!(std::fs::read(db).ok(), before, "{db_arg} changed");
    }
    assert!(!data.path().join("missing").exists());
}

/// A tmpfs of a given size on a temporary directory, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    /// `None` when it cannot be mounted (mounting needs root, as CI runs).
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(Self(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// On a disk that fills up (a 256 KiB tmpfs), a create past the space is a 507 saying so; every
/// item acknowledged before is there, deleting still works, and a restart on the full disk
/// serves them all. A new database on a disk with no room at all is one line, exit 2, and no
/// file left behind.
#[test]
fn a_full_disk_is_a_507_and_loses_nothing_acknowledged() {
    let Some(disk) = Tmpfs::mount("256k") else {
        eprintln!("skipped: cannot mount a tmpfs here (it needs root)");
        return;
    };
    let dist = dist();
    let dist_dir = dist.path().to_str().expect("UTF-8");
    let db = disk.path().join("todos.sqlite3");
    let db = db.to_str().expect("UTF-8");
    let server = start(dist.path(), &serve_args(dist_dir, db)).expect("serves");
    let long = "x".repeat(180);
    let mut acknowledged = Vec::new();
    let refused = (0..10_000)
        .find_map(|i| {
            let body = format!(r#"{{"title":"{i} {long}"}}"#);
            let (status, body) = http(&server.url, "POST", "/api/todos", &body);
            if status.contains(" 201 ") {
                acknowledged.push(serde_json::from_str::<Todo>(&body).expect("an item"));
                None
            } else {
                Some((status, body))
            }
        })
        .expect("the disk fills up");
    assert!(refused.0.contains(" 507 "), "{refused:?}");
    let error: boundary_server::ErrorBody = serde_json::from_str(&refused.1).expect("an error");
    assert!(error.error.contains("disk is full"), "{error:?}");
    assert!(!acknowledged.is_empty());
    let items = list(&server.url);
    for todo in &acknowledged {
        assert!(items.contains(todo), "{todo:?} lost");
    }
    let (status, _) = http(
        &server.url,
        "DELETE",
        &format!("/api/todos/{}", acknowledged[0].id),
        "",
    );
    assert!(status.contains(" 204 "), "{status}");
    drop(server);

    let server = start(dist.path(), &serve_args(dist_dir, db)).expect("serves on the full disk");
    let items = list(&server.url);
    for todo in &acknowledged[1..] {
        assert!(items.contains(todo), "{todo:?} lost across the restart");
    }
    drop(server);

    // No room at all for a new database.
    std::fs::write(disk.path().join("filler"), vec![0u8; 256 << 10]).ok();
    let new = disk.path().join("new.sqlite3");
    let (code, stderr) = match start(
        dist.path(),
        &serve_args(dist_dir, new.to_str().expect("UTF-8")),
    ) {
        Ok(_) => panic!("served a new database on a full disk"),
        Err(failed) => failed,
    };
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("(--db)") && stderr.contains("full"),
        "{stderr}"
    );
    assert!(!new.exists(), "an empty database was left behind");
}
