//! `boundary serve` as a command: its help, finding the web app, the failures of the binary, and
//! the flags reaching the server. The server itself is tested in-process by `boundary-server`'s
//! own tests (host/server/tests).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use boundary_server::ErrorBody;

const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// A fake `dist`: an index page and a hashed asset of each kind.
pub(crate) fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_dist(dir.path());
    dir
}

pub(crate) fn write_dist(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).expect("assets");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title>").expect("index");
    std::fs::write(dir.join("assets/index-Ab12Cd34.js"), "export {}").expect("js");
    std::fs::write(dir.join("assets/transformer.core-Ef56Gh78.wasm"), WASM).expect("wasm");
}

/// No cause is repeated in a one-line message `a: b: c`.
fn assert_causes_once(message: &str) {
    let parts: Vec<&str> = message.split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].iter().any(|later| later == part),
            "{part:?} twice in {message:?}"
        );
    }
}

/// `boundary serve --help` documents the lanes' flags and what a full lane answers.
#[test]
fn serve_help_documents_the_lane_flags() {
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--help"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for part in [
        "--max-in-flight",
        "--queue-depth",
        "503",
        "Retry-After",
        "504",
    ] {
        assert!(help.contains(part), "{part}: {help}");
    }
}

#[test]
fn a_missing_dist_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("dist");
    let message = boundary_server::check_dist(&missing)
        .expect_err("no dist")
        .to_string();
    assert_eq!(
        message,
        format!("{} not found: run `just web` first", missing.display())
    );

    // Through the binary: exit code 2, one line on stderr, before binding anything.
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--addr", "127.0.0.1:0", "--dist"])
        .arg(&missing)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("not found: run `just web` first"),
        "{stderr}"
    );
}

/// The workspace's `web/dist`, as the binary knows it.
fn workspace_dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist")
}

/// Bug 9: without `--dist`, `web/dist` is looked for under the current directory, then under the
/// workspace the binary was built from; the error names both.
#[test]
fn the_web_app_is_found_from_any_directory() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let candidates = boundary_server::dist_candidates(cwd.path());
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    assert_eq!(candidates[0], cwd.path().join("web/dist"));
    // The same directory as the workspace's (web/ exists in a checkout; dist/ may not yet).
    let parent = |p: &Path| {
        p.parent()
            .expect("a parent")
            .canonicalize()
            .expect("web/ exists")
    };
    assert_eq!(parent(&candidates[1]), parent(&workspace_dist()));
    assert!(
        !candidates[1].to_string_lossy().contains(".."),
        "{candidates:?}"
    );

    // Run from the workspace root, the two are one.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().and_then(Path::parent).expect("host/cli");
    assert_eq!(boundary_server::dist_candidates(root).len(), 1);

    // Neither exists: one message naming both, and how to fix it.
    let other = tempfile::tempdir().expect("temp dir");
    let tried = vec![cwd.path().join("web/dist"), other.path().join("web/dist")];
    let message = boundary_server::find_dist(&tried)
        .expect_err("none")
        .to_string();
    assert_eq!(
        message,
        format!(
            "{} and {} not found: run `just web` first, or pass --dist",
            tried[0].display(),
            tried[1].display()
        )
    );
    // The first that holds an index.html wins.
    write_dist(&tried[1]);
    assert_eq!(boundary_server::find_dist(&tried).expect("found"), tried[1]);
    write_dist(&tried[0]);
    assert_eq!(boundary_server::find_dist(&tried).expect("found"), tried[0]);
    // A directory without index.html does not count.
    std::fs::remove_file(tried[0].join("index.html")).expect("rm");
    assert_eq!(boundary_server::find_dist(&tried).expect("found"), tried[1]);
}

/// A `boundary serve` child, killed (SIGKILL) when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    /// Its `BOUNDARY_DATA_DIR`, where the default to-do database goes.
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `boundary serve ARGS` in `cwd`, with a data directory of its own: the server once it
/// says where it listens, or its exit code and standard error if it exits first.
pub(crate) fn start(cwd: &Path, args: &[&str]) -> Result<Server, (Option<i32>, String)> {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .arg("serve")
        .args(args)
        .current_dir(cwd)
        .env("BOUNDARY_DATA_DIR", data.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    let line = receive
        .recv_timeout(Duration::from_secs(120))
        .expect("the server starts or exits within two minutes");
    match line.strip_prefix("serving ") {
        Some(url) => Ok(Server {
            child,
            url: url.trim().to_owned(),
            _data: data,
        }),
        None => {
            let status = child.wait().expect("exits");
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("reads");
            Err((status.code(), stderr))
        }
    }
}

/// One HTTP/1.1 request over loopback: the status line and the body.
pub(crate) fn http(url: &str, method: &str, path: &str, body: &str) -> (String, String) {
    try_http(url, method, path, body).expect("an HTTP exchange")
}

/// As [`http`], or the I/O error (the server is gone).
pub(crate) fn try_http(
    url: &str,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(String, String)> {
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Bug 9 through the binary: run outside the repository with no `--dist`, it serves the
/// current directory's `web/dist`; without one, it serves the workspace's if that is built, and
/// otherwise fails with one line naming both places it looked.
#[test]
fn serve_works_outside_the_repository() {
    let with_dist = tempfile::tempdir().expect("temp dir");
    write_dist(&with_dist.path().join("web/dist"));
    let server = start(with_dist.path(), &["--addr", "127.0.0.1:0"]).expect("serves");
    let (status, body) = http(&server.url, "GET", "/", "");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("<title>t</title>"), "{body}");
    // The HTTP server answers a 405 with the error body too.
    let (status, body) = http(&server.url, "PUT", "/api/todos", "{}");
    assert!(status.contains(" 405 "), "{status}");
    let error: ErrorBody = serde_json::from_str(&body).expect("an error body");
    assert!(error.error.contains("PUT"), "{error:?}");
    drop(server);

    let empty = tempfile::tempdir().expect("temp dir");
    let built = workspace_dist().join("index.html").is_file();
    match start(empty.path(), &["--addr", "127.0.0.1:0"]) {
        Ok(server) => {
            assert!(built, "served without a web/dist anywhere");
            let (status, _) = http(&server.url, "GET", "/", "");
            assert!(status.contains(" 200 "), "{status}");
        }
        Err((code, stderr)) => {
            assert!(!built, "the workspace's web/dist is built, yet: {stderr}");
            assert_eq!(code, Some(2), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("error: "), "{stderr}");
            assert!(
                stderr.contains(&empty.path().join("web/dist").display().to_string()),
                "{stderr}"
            );
            assert!(stderr.contains("--dist"), "{stderr}");
        }
    }
}

/// Bug 4: an address already in use printed its cause twice.
#[test]
fn an_address_in_use_is_one_line_with_its_cause_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = taken.local_addr().expect("addr").to_string();
    let dist = dist();
    let data = tempfile::tempdir().expect("temp dir");
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--addr", &addr, "--dist"])
        .arg(dist.path())
        .env("BOUNDARY_DATA_DIR", data.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
    let cause = std::io::Error::from(std::io::ErrorKind::AddrInUse).to_string();
    assert!(
        stderr.to_lowercase().contains("in use"),
        "{stderr} ({cause})"
    );
    assert_eq!(stderr.matches("(os error").count(), 1, "{stderr}");
    assert_causes_once(stderr.trim_end());
    drop(taken);
}

/// `--max-todos` reaches the server: with room for the seeded items and one more, the next is
/// answered 507 naming the flag, and deleting an item makes room again.
#[test]
fn the_to_do_cap_flags_reach_the_server() {
    let dist = dist();
    let dir = dist.path().to_str().expect("a UTF-8 temp dir");
    let server = start(
        dist.path(),
        &["--addr", "127.0.0.1:0", "--dist", dir, "--max-todos", "4"],
    )
    .expect("serves");
    let (status, body) = http(&server.url, "POST", "/api/todos", r#"{"title":"fourth"}"#);
    assert!(status.contains(" 201 "), "{status}: {body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("an item");
    let (status, body) = http(&server.url, "POST", "/api/todos", r#"{"title":"fifth"}"#);
    assert!(status.contains(" 507 "), "{status}: {body}");
    let error: ErrorBody = serde_json::from_str(&body).expect("an error body");
    assert!(
        error.error.contains("4 items") && error.error.ends_with("(--max-todos)"),
        "{error:?}"
    );
    let (status, _) = http(
        &server.url,
        "DELETE",
        &format!("/api/todos/{}", created["id"]),
        "",
    );
    assert!(status.contains(" 204 "), "{status}");
    let (status, body) = http(&server.url, "POST", "/api/todos", r#"{"title":"fifth"}"#);
    assert!(status.contains(" 201 "), "{status}: {body}");

    // Out of range: a usage error naming the flag.
    let out = assert_cmd::Command::cargo_bin("boundary")
        .expect("binary")
        .args(["serve", "--max-todos", "0", "--dist", dir])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-todos"));
}
