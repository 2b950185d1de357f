//! The `wasi:http/proxy` guest (`guest/http`, embedded as `boundary_guests::HTTP_COMPONENT`):
//! under the reference host, `wasmtime serve` (wasmtime-cli 48.0.8, installed by
//! `just setup-wasmtime`; `$BOUNDARY_WASMTIME` overrides the binary). Without `-Scli`,
//! `wasmtime serve` links exactly the `wasi:http/proxy` world's imports
//! (`wasmtime_wasi_http::p2::add_to_linker_async`) and type-checks the component's
//! `incoming-handler` export before it listens, so a component it serves targets that world
//! and imports nothing else, and one it refuses does not.

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use boundary_kernel::SomeDataStruct;

/// The body cap of the guest's `POST /transform` (`guest/http/src/route.rs`).
const MAX_BODY: usize = 8 << 20;

/// How long `wasmtime serve` may take to compile the component and answer: a guard against a
/// hang, not a speed goal.
const STARTUP: Duration = Duration::from_secs(120);

/// `wasmtime serve` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Keeps the component file alive while the server runs.
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serves the embedded http component: see [`Server::try_start`].
    fn start() -> Self {
        Self::try_start(boundary_guests::HTTP_COMPONENT).unwrap_or_else(|refused| {
            panic!("wasmtime serve refused the http component: {refused}")
        })
    }

    /// Writes `component` to a temporary directory and serves it on `127.0.0.1:0` (no `-S`
    /// flags: the proxy world only); the port the kernel picked is read from the line
    /// `wasmtime serve` prints. `Err` holds what it printed when it exited before serving.
    fn try_start(component: &[u8]) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(boundary_guests::HTTP_COMPONENT_FILE_NAME);
        std::fs::write(&file, component).unwrap();
        let wasmtime = std::env::var_os("BOUNDARY_WASMTIME").unwrap_or_else(|| "wasmtime".into());
        let mut child = match Command::new(&wasmtime)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
                "{} not found: run `just setup-wasmtime` (wasmtime-cli 48.0.8) or set $BOUNDARY_WASMTIME",
                wasmtime.to_string_lossy()
            ),
            Err(e) => panic!("cannot start {}: {e}", wasmtime.to_string_lossy()),
        };
        // Read stderr on a thread, for the whole run (a full pipe would stall the server); the
        // first `Serving HTTP on http://ADDR/` line carries the address.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let mut seen = String::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let addr = line
                    .strip_prefix("Serving HTTP on http://")
                    .and_then(|rest| rest.strip_suffix('/'))
                    .and_then(|addr| addr.parse::<SocketAddr>().ok());
                match (addr, tx.take()) {
                    (Some(addr), Some(tx)) => tx.send(Ok(addr)).ok(),
                    (_, still) => {
                        seen.push_str(&line);
                        seen.push('\n');
                        tx = still;
                        None
                    }
                };
            }
            if let Some(tx) = tx {
                tx.send(Err(seen)).ok();
            }
        });
        let server = match rx.recv_timeout(STARTUP) {
            Ok(Ok(addr)) => Self {
                child,
                addr,
                _dir: dir,
            },
            Ok(Err(stderr)) => {
                let status = child.wait().ok();
                return Err(format!(
                    "wasmtime serve exited ({status:?}) before serving: {stderr}"
                ));
            }
            Err(_) => {
                child.kill().ok();
                child.wait().ok();
                panic!("wasmtime serve printed no address within {STARTUP:?}")
            }
        };
        server.wait_until_it_answers();
        Ok(server)
    }

    fn wait_until_it_answers(&self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            match try_request(
                self.addr,
                "GET",
                "/button-text?status=DONE",
                &[],
                Body::None,
            ) {
                Ok(response) if response.status == 200 => return,
                result if Instant::now() > deadline => {
                    panic!(
                        "wasmtime serve on {} does not answer: {result:?}",
                        self.addr
                    )
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn request(&self, method: &str, target: &str, body: Body) -> Response {
        try_request(self.addr, method, target, &[], body)
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A request body.
enum Body {
    None,
    /// Sent with a `Content-Length`.
    Bytes(Vec<u8>),
    /// `len` spaces sent with `Transfer-Encoding: chunked`: the guest sees no declared length.
    ChunkedSpaces(usize),
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// Asserts an error answer: `status`, `text/plain`, one line ending in a newline.
    fn assert_one_line_error(&self, status: u16) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{self:?}"
        );
        let text = self.text();
        assert!(text.ends_with('\n'), "{text:?}");
        assert_eq!(text.lines().count(), 1, "{text:?}");
    }
}

/// One HTTP/1.1 request on a fresh connection. The body is written on a thread while the
/// answer is read, so an early answer (a 413 before the whole body is sent) is seen; the answer
/// is read up to its `Content-Length`, not to the end of the connection.
fn try_request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    extra_headers: &[(&str, &str)],
    body: Body,
) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(STARTUP))?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &body {
        Body::None => {}
        Body::Bytes(bytes) => head.push_str(&format!("Content-Length: {}\r\n", bytes.len())),
        Body::ChunkedSpaces(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let mut writer = stream.try_clone()?;
    // Write errors are ignored: a server that answers early may close the connection.
    let sender = std::thread::spawn(move || match body {
        Body::None => {}
        Body::Bytes(bytes) => {
            writer.write_all(&bytes).ok();
        }
        Body::ChunkedSpaces(len) => {
            let chunk = vec![b' '; 64 << 10];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len());
                let framed = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                if writer.write_all(&framed).is_err() {
                    return;
                }
                left -= n;
            }
            writer.write_all(b"0\r\n\r\n").ok();
        }
    });
    let response = read_response(&mut stream);
    drop(stream);
    sender.join().ok();
    response
}

fn read_response(stream: &mut TcpStream) -> io::Result<Response> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed after {} bytes", buffer.len()),
            ));
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no Content-Length in {head:?}")))?;
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body cut short",
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[test]
fn wasmtime_serve_runs_the_kernel_over_http() {
    let server = Server::start();

    // Transform: byte for byte the native kernel's output, serialized the same way.
    let records = [
        SomeDataStruct::example(),
        SomeDataStruct {
            name: "Grüße, 世界".into(),
            names: vec!["🦀".into(), String::new(), "naïve \"quoted\"\n".into()],
        },
    ];
    for record in records {
        let response = server.request(
            "POST",
            "/transform",
            Body::Bytes(serde_json::to_vec(&record).unwrap()),
        );
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        let native = serde_json::to_vec(&boundary_kernel::transform(record)).unwrap();
        assert_eq!(response.text(), std::str::from_utf8(&native).unwrap());
    }

    // Button text, any ASCII case.
    for (status, label) in [
        ("PENDING", "edit"),
        ("pending", "edit"),
        ("DONE", "delete"),
        ("dOnE", "delete"),
        ("archived", "an error has occurred"),
        ("", "an error has occurred"),
    ] {
        let response = server.request("GET", &format!("/button-text?status={status}"), Body::None);
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(response.text(), label, "status {status:?}");
        assert_eq!(response.text(), boundary_kernel::button_text(status));
    }

    // Bad input: one line each.
    let bad_json = server.request("POST", "/transform", Body::Bytes(b"{\"name\":".to_vec()));
    bad_json.assert_one_line_error(400);
    assert!(bad_json.text().starts_with("bad JSON: "), "{bad_json:?}");
    server
        .request(
            "POST",
            "/transform",
            Body::Bytes(br#"{"name":"a"}"#.to_vec()),
        )
        .assert_one_line_error(400);
    server
        .request("GET", "/button-text", Body::None)
        .assert_one_line_error(400);
    server
        .request("GET", "/nowhere", Body::None)
        .assert_one_line_error(404);
    let wrong_method = server.request("GET", "/transform", Body::None);
    wrong_method.assert_one_line_error(405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));

    // The cap: a declared length over it is refused before the body is read; an undeclared
    // (chunked) one is read to the cap and no further. A body of exactly the cap is accepted.
    let declared = server.request("POST", "/transform", Body::Bytes(vec![b' '; MAX_BODY + 1]));
    declared.assert_one_line_error(413);
    server
        .request(
            "POST",
            "/transform",
            Body::ChunkedSpaces(MAX_BODY + (1 << 20)),
        )
        .assert_one_line_error(413);
    let mut at_cap = vec![b' '; MAX_BODY];
    let record = serde_json::to_vec(&SomeDataStruct::example()).unwrap();
    at_cap[MAX_BODY - record.len()..].copy_from_slice(&record);
    let accepted = server.request("POST", "/transform", Body::Bytes(at_cap));
    assert_eq!(accepted.status, 200, "{:?}", accepted.text());

    // Still serving after all that.
    let again = server.request("GET", "/button-text?status=pending", Body::None);
    assert_eq!(again.text(), "edit");
}

#[test]
fn the_http_component_targets_the_proxy_world_and_imports_nothing_else() {
    // `wasmtime serve` without `-Scli` linked it against the proxy world alone and answered.
    let server = Server::try_start(boundary_guests::HTTP_COMPONENT).unwrap();
    assert_eq!(
        server
            .request("GET", "/button-text?status=DONE", Body::None)
            .text(),
        "delete"
    );
}

#[test]
fn components_outside_the_proxy_world_are_refused_by_the_same_host() {
    // An import the proxy world lacks (the standard library of a `wasm32-wasip2` command
    // imports this one).
    let imports_environment = wat::parse_str(
        r#"(component
        (import "wasi:cli/environment@0.2.6" (instance
            (export "get-arguments" (func (result (list string))))))
    )"#,
    )
    .unwrap();
    let Err(refused) = Server::try_start(&imports_environment) else {
        panic!("wasmtime serve served a component that imports wasi:cli/environment");
    };
    assert!(refused.contains("wasi:cli/environment"), "{refused}");
    // The transformer component imports nothing, but does not export the handler.
    let Err(refused) = Server::try_start(boundary_guests::COMPONENT) else {
        panic!("wasmtime serve served the transformer component");
    };
    assert!(refused.contains("incoming-handler"), "{refused}");
}

#[test]
fn inspect_names_the_world_of_each_component() {
    let dir = tempfile::tempdir().unwrap();
    let http = dir.path().join(boundary_guests::HTTP_COMPONENT_FILE_NAME);
    std::fs::write(&http, boundary_guests::HTTP_COMPONENT).unwrap();
    let output = assert_cmd::Command::cargo_bin("boundary")
        .unwrap()
        .arg("inspect")
        .arg(&http)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let world = stdout
        .lines()
        .find(|line| line.starts_with("world: "))
        .unwrap_or_else(|| panic!("no world line: {stdout}"));
    assert!(world.starts_with("world: wasi:http/proxy@0.2."), "{world}");
    assert!(
        stdout.contains("wasi:http/incoming-handler@0.2."),
        "{stdout}"
    );

    // A component that imports an interface outside the proxy world is named as such.
    let outside = dir.path().join("outside.wasm");
    let wat = r#"(component
        (import "wasi:filesystem/preopens@0.2.6" (instance
            (export "get-directories" (func (result (list string))))))
        (instance $handler)
        (export "wasi:http/incoming-handler@0.2.6" (instance $handler))
    )"#;
    std::fs::write(&outside, wat::parse_str(wat).unwrap()).unwrap();
    let output = assert_cmd::Command::cargo_bin("boundary")
        .unwrap()
        .arg("inspect")
        .arg(&outside)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(
            "world: none known (exports wasi:http/incoming-handler@0.2.6 but imports \
             wasi:filesystem/preopens@0.2.6, which wasi:http/proxy does not have)"
        ),
        "{stdout}"
    );
}
