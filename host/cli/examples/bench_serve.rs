//! Load figures for the servers, in one run, on loopback only: `boundary serve` (component path
//! and raw path) and `wasmtime serve` running the wasi:http guest, each loaded by `wrk` for a
//! bounded time with the seed record, then a mixed load (small requests beside eight ~7 MiB
//! transforms). Every response body is checked. Writes `bench/serve.md` and the raw numbers in
//! `bench/serve.json`. Figures only; nothing here is a timed assertion.
//!
//! `just bench-serve` builds the release binary and runs it:
//! `cargo run --release -p boundary-cli --example bench_serve -- [--duration S] [--connections N]`.
//! It needs `wrk` (Debian's package: installed with apt-get when missing and run as root) and
//! `wasmtime` 48 (`just setup-wasmtime`). Every server it starts is a child process, killed when
//! it ends, also on error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use boundary_kernel::SomeDataStruct;
use clap::Parser;
use serde::{Deserialize, Serialize};

/// The body of every small request: the seed record.
const SEED: &str = r#"{"name":"name3","names":["name1","name2"]}"#;
/// What the kernel makes of [`SEED`].
const SEED_OUT: &str = r#"{"name":"name3","names":["name1","name2","new name"]}"#;
/// Seconds of unmeasured load before each measured run.
const WARM_UP_SECS: u64 = 2;
/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one large request may take before the client gives up on it.
const LARGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Flags.
#[derive(Debug, Parser)]
#[command(about = "Load figures for `boundary serve` and `wasmtime serve` (wrk, loopback)")]
struct Args {
    /// Seconds of measured load per target.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    duration: u64,
    /// wrk's open connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    connections: u32,
    /// wrk's threads (at most the connections).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    threads: u32,
    /// Large (~7 MiB) transforms running beside the small ones in the mixed load.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=64))]
    large: u32,
    /// The `boundary` binary [default: `boundary` next to this example's directory].
    #[arg(long)]
    boundary: Option<PathBuf>,
    /// The `wasmtime` CLI.
    #[arg(long, default_value = "wasmtime")]
    wasmtime: PathBuf,
    /// The built web app `boundary serve` needs [default: web/dist if built, else a stub].
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Where the report goes; the raw numbers go next to it, as `.json`.
    #[arg(long, default_value = "bench/serve.md")]
    out: PathBuf,
}

/// A server started as a child process: killed and reaped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `command` and waits for it to print `http://ADDR/` on standard output or error;
    /// both are drained for the rest of its life.
    fn start(mut command: Command, what: &str) -> Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {what} ({command:?})"))?;
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        for stream in [stdout, stderr].into_iter().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        // From here on the child is killed if anything fails.
        let mut server = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => bail!(
                    "{what} printed no address within {START_TIMEOUT:?}; it said: {}",
                    seen.join(" | ")
                ),
            };
            if let Some(rest) = line.split("http://").nth(1) {
                let addr = rest.trim_end().trim_end_matches('/');
                server.addr = addr.parse().with_context(|| {
                    format!("{what} printed an address that is not one: {line}")
                })?;
                break;
            }
            seen.push(line);
        }
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in rx {});
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Resident set of `pid`, in KiB (`VmRSS` of `/proc/PID/status`).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// User plus system CPU time of `pid` so far, in clock ticks (`/proc/PID/stat`, fields 14 and 15).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces; field 3 follows the last `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("no field {n} in /proc/{pid}/stat"))
    };
    Ok(field(14)? + field(15)?)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, Linux's usual value, if that fails).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Busy CPU time of the whole machine so far, all cores, in clock ticks (the `cpu` line of
/// `/proc/stat`: user, nice, system, irq, softirq and steal; not idle or iowait).
fn machine_ticks() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let fields: Vec<u64> = stat
        .lines()
        .find_map(|l| l.strip_prefix("cpu "))
        .context("no cpu line in /proc/stat")?
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    Ok([0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| fields.get(i).copied().unwrap_or(0))
        .sum())
}

/// A snapshot of a server process and of the machine.
#[derive(Debug, Clone, Copy)]
struct Probe {
    rss_kib: u64,
    ticks: u64,
    machine_ticks: u64,
    at: Instant,
}

impl Probe {
    fn take(pid: u32) -> Result<Self> {
        Ok(Self {
            rss_kib: rss_kib(pid)?,
            ticks: cpu_ticks(pid)?,
            machine_ticks: machine_ticks()?,
            at: Instant::now(),
        })
    }
}

/// What the Lua script's `done()` prints, after `BENCH_JSON `.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WrkFigures {
    requests: f64,
    duration_us: f64,
    /// Responses the script's `response()` saw.
    checked: f64,
    non200: f64,
    wrong_body: f64,
    /// The status of the first non-200 response, 0 if none.
    first_bad_status: f64,
    connect_errors: f64,
    read_errors: f64,
    write_errors: f64,
    timeouts: f64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
}

impl WrkFigures {
    fn requests_per_sec(&self) -> f64 {
        self.requests / (self.duration_us / 1e6)
    }

    fn socket_errors(&self) -> f64 {
        self.connect_errors + self.read_errors + self.write_errors + self.timeouts
    }

    fn errors(&self) -> f64 {
        self.non200 + self.wrong_body + self.socket_errors()
    }
}

/// One measured target.
#[derive(Debug, Clone, Serialize)]
struct Row {
    /// `boundary` or `wasmtime`: the server under load.
    server: &'static str,
    target: String,
    url: String,
    wrk: WrkFigures,
    rss_before_kib: u64,
    rss_after_kib: u64,
    /// The server's CPU time over the wall time.
    cores: f64,
    /// The whole machine's busy CPU time over the wall time (the server, wrk, and anything else).
    machine_cores: f64,
}

/// A Lua long string holding `s` (JSON never holds `]==]`).
fn lua_string(s: &str) -> String {
    format!("[==[{s}]==]")
}

/// A wrk script that POSTs `body` and checks every response: status 200 and a body equal to
/// `expected` (`exact`) or starting with it.
fn lua_script(body: &str, expected: &str, exact: bool) -> String {
    format!(
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
local expected = {expected}
local exact = {exact}
checked, non200, wrong, first_bad = 0, 0, 0, 0
function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    non200 = non200 + 1
    if first_bad == 0 then first_bad = status end
  elseif exact then
    if body ~= expected then wrong = wrong + 1 end
  elseif string.sub(body, 1, #expected) ~= expected then
    wrong = wrong + 1
  end
end
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local c, n, w, b = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("checked"); n = n + t:get("non200"); w = w + t:get("wrong")
    if b == 0 then b = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format('BENCH_JSON {{"requests":%.0f,"duration_us":%.0f,"checked":%.0f,"non200":%.0f,"wrong_body":%.0f,"first_bad_status":%.0f,"connect_errors":%.0f,"read_errors":%.0f,"write_errors":%.0f,"timeouts":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f}}\n',
    summary.requests, summary.duration, c, n, w, b, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"#,
        body = lua_string(body),
        expected = lua_string(expected),
    )
}

/// How wrk is run.
struct Wrk {
    bin: PathBuf,
    threads: u32,
    connections: u32,
}

impl Wrk {
    fn command_line(&self, secs: u64, script: &Path, url: &str) -> Vec<String> {
        vec![
            self.bin.display().to_string(),
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{secs}s"),
            "--timeout".into(),
            "10s".into(),
            "--latency".into(),
            "-s".into(),
            script.display().to_string(),
            url.into(),
        ]
    }

    fn run(&self, secs: u64, script: &Path, url: &str) -> Result<WrkFigures> {
        let line = self.command_line(secs, script, url);
        let output = Command::new(&line[0])
            .args(&line[1..])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", line.join(" ")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "`{}` failed ({}): {} {}",
                line.join(" "),
                output.status,
                stdout.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let json = stdout
            .lines()
            .find_map(|l| l.strip_prefix("BENCH_JSON "))
            .with_context(|| format!("wrk printed no figures: {}", stdout.trim()))?;
        serde_json::from_str(json).with_context(|| format!("wrk's figures do not parse: {json}"))
    }
}

/// Finds wrk on the PATH; when missing, installs Debian's package as root, else says how.
fn find_wrk() -> Result<PathBuf> {
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    if let Some(wrk) = on_path("wrk") {
        return Ok(wrk);
    }
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|u| u.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    if !root || on_path("apt-get").is_none() {
        bail!("wrk is missing: install it (Debian: `sudo apt-get install -y wrk`) and run again");
    }
    eprintln!("installing wrk (apt-get install -y wrk)");
    let ok = Command::new("apt-get")
        .args(["install", "-y", "wrk"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let _ = Command::new("apt-get").arg("update").status();
        let status = Command::new("apt-get")
            .args(["install", "-y", "wrk"])
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("`apt-get install -y wrk` failed ({status})");
        }
    }
    on_path("wrk").context("apt-get installed wrk, but it is not on the PATH")
}

/// A server's route under load, and what each response must be.
struct Target {
    server: &'static str,
    name: String,
    url: String,
    /// The body, or (not `exact`) its start.
    expected: String,
    exact: bool,
}

/// Warms up, then measures one target: wrk's figures, the server's RSS and CPU around it.
fn measure(wrk: &Wrk, secs: u64, dir: &Path, server: &Server, target: &Target) -> Result<Row> {
    let Target {
        name,
        server: _,
        url,
        expected,
        exact,
    } = target;
    let file: String = name
        .chars()
        .filter_map(|c| match c {
            c if c.is_ascii_alphanumeric() => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect();
    let script = dir.join(format!("{file}.lua"));
    std::fs::write(&script, lua_script(SEED, expected, *exact))?;
    eprintln!("{name}: warm-up {WARM_UP_SECS} s, then {secs} s of load on {url}");
    wrk.run(WARM_UP_SECS, &script, url)?;
    let before = Probe::take(server.pid())?;
    let figures = wrk.run(secs, &script, url)?;
    let after = Probe::take(server.pid())?;
    Ok(row(target.server, name, url, figures, before, after))
}

/// The server's cores busy between two probes, and the machine's.
fn busy(before: &Probe, after: &Probe) -> (f64, f64) {
    let wall = after.at.duration_since(before.at).as_secs_f64();
    let hz = clock_ticks() as f64;
    let cpu = after.ticks.saturating_sub(before.ticks) as f64 / hz;
    let machine = after.machine_ticks.saturating_sub(before.machine_ticks) as f64 / hz;
    (cpu / wall, machine / wall)
}

/// The mixed load's first phase: the large requests alone, no wrk.
#[derive(Debug, Clone, Serialize)]
struct LargeOnly {
    secs: u64,
    /// The server's cores busy meanwhile.
    cores: f64,
    machine_cores: f64,
    /// The server's RSS once the large clients had stopped and it was idle for a second.
    rss_idle_after_kib: u64,
}

fn row(
    server: &'static str,
    name: &str,
    url: &str,
    wrk: WrkFigures,
    before: Probe,
    after: Probe,
) -> Row {
    let (cores, machine_cores) = busy(&before, &after);
    Row {
        server,
        target: name.into(),
        url: url.into(),
        wrk,
        rss_before_kib: before.rss_kib,
        rss_after_kib: after.rss_kib,
        cores,
        machine_cores,
    }
}

/// One large request's outcome.
#[derive(Debug, Clone, Serialize)]
struct Large {
    /// The HTTP status, or 0 when the exchange failed.
    status: u16,
    /// For a 200: whether the output was the transformed record, byte for byte.
    correct: bool,
    ms: f64,
    /// For a failure or a non-200: the first line of the answer or error.
    note: String,
}

/// POSTs `body` on a fresh connection (`Connection: close`) and returns the status and body.
fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(LARGE_TIMEOUT))?;
    stream.set_write_timeout(Some(LARGE_TIMEOUT))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // A server that refuses early (503) may close before the body is sent: read its answer anyway.
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    if answer.is_empty() {
        sent?;
        read?;
        bail!("empty answer");
    }
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    let mut body = answer.split_off(split + 4);
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body)?;
    }
    Ok((status, body))
}

/// The payload of a chunked body.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("bad chunk")?;
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&raw[..eol])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )
        .context("bad chunk size")?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(raw.get(..size).context("short chunk")?);
        raw = raw.get(size + 2..).context("short chunk")?;
    }
}

/// The large record: 7,300 names of 1,000 bytes, about 7 MiB of JSON.
fn large_record() -> SomeDataStruct {
    SomeDataStruct {
        name: "large".into(),
        names: (0..7_300).map(|i| format!("{i:0>1000}")).collect(),
    }
}

/// The mixed load: `large` clients post the large record in a loop while wrk sends small ones.
fn mixed(
    wrk: &Wrk,
    secs: u64,
    dir: &Path,
    server: &Server,
    large: u32,
) -> Result<(Row, LargeOnly, Vec<Large>, usize)> {
    let record = large_record();
    let body = Arc::new(serde_json::to_vec(&record)?);
    // What a correct answer starts with: serde_json's compact form, as the server writes it.
    let expected = Arc::new(
        format!(
            r#"{{"path":"component","output":{},"#,
            serde_json::to_string(&boundary_kernel::transform(record))?
        )
        .into_bytes(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let path = "/api/transform?path=component";
    let clients: Vec<_> = (0..large)
        .map(|_| {
            let (body, expected, stop, outcomes) = (
                body.clone(),
                expected.clone(),
                stop.clone(),
                outcomes.clone(),
            );
            let addr = server.addr;
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let outcome = match post(addr, path, &body) {
                        Ok((status, answer)) => {
                            // A byte comparison, so that checking costs the load little CPU.
                            let correct = status == 200 && answer.starts_with(&expected);
                            let note = if status == 200 {
                                String::new()
                            } else {
                                String::from_utf8_lossy(&answer)
                                    .lines()
                                    .next()
                                    .unwrap_or("")
                                    .into()
                            };
                            Large {
                                status,
                                correct,
                                ms: start.elapsed().as_secs_f64() * 1e3,
                                note,
                            }
                        }
                        Err(e) => Large {
                            status: 0,
                            correct: false,
                            ms: start.elapsed().as_secs_f64() * 1e3,
                            note: format!("{e:#}"),
                        },
                    };
                    outcomes.lock().expect("no client panics").push(outcome);
                }
            })
        })
        .collect();
    let url = format!("http://{}{path}", server.addr);
    let script = dir.join("mixed.lua");
    std::fs::write(
        &script,
        lua_script(SEED, &boundary_prefix("component"), false),
    )?;
    eprintln!(
        "mixed: {large} clients posting {:.1} MiB records, and {secs} s of small ones on {url}",
        body.len() as f64 / (1 << 20) as f64
    );
    // Let every large client get its first request going.
    std::thread::sleep(Duration::from_millis(500));
    // First the large requests alone: how many cores the server keeps busy on them.
    let alone = Probe::take(server.pid())?;
    std::thread::sleep(Duration::from_secs(secs));
    let alone_after = Probe::take(server.pid())?;
    let before = Probe::take(server.pid())?;
    let figures = wrk.run(secs, &script, &url);
    let after = Probe::take(server.pid());
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    // What the server holds once the large requests are over and it has been idle a moment.
    std::thread::sleep(Duration::from_secs(1));
    let idle = Probe::take(server.pid())?;
    let (cores, machine_cores) = busy(&alone, &alone_after);
    let large_only = LargeOnly {
        secs,
        cores,
        machine_cores,
        rss_idle_after_kib: idle.rss_kib,
    };
    let outcomes = std::mem::take(&mut *outcomes.lock().expect("no client panics"));
    Ok((
        row(
            "boundary",
            "mixed: small beside large, component",
            &url,
            figures?,
            before,
            after?,
        ),
        large_only,
        outcomes,
        body.len(),
    ))
}

/// The start of what `boundary serve`'s `/api/transform?path=NAME` answers for [`SEED`]: the
/// path, the output, then traffic and timing fields that vary.
fn boundary_prefix(path: &str) -> String {
    format!(r#"{{"path":"{path}","output":{SEED_OUT},"#)
}

fn fmt_ms(us: f64) -> String {
    format!("{:.2} ms", us / 1e3)
}

fn fmt_mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Everything the run measured, as `bench/serve.json`.
#[derive(Debug, Serialize)]
struct Raw<'a> {
    cores_available: usize,
    wrk_version: String,
    wrk_threads: u32,
    wrk_connections: u32,
    duration_secs: u64,
    warm_up_secs: u64,
    seed_body: &'static str,
    expected_output: &'static str,
    rows: &'a [Row],
    large_clients: u32,
    large_body_bytes: usize,
    large_only: &'a LargeOnly,
    large: &'a [Large],
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn report(raw: &Raw, wrk_line: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Load figures: `boundary serve` and `wasmtime serve`\n\n\
         Generated by `just bench-serve` (`host/cli/examples/bench_serve.rs`); do not edit. Raw \
         numbers: [serve.json](serve.json). One run on one machine with {cores} cores, shared by \
         the servers *and* the load generator (`{wrk}`) on loopback, so the figures are only \
         comparable with each other.\n\n\
         Each target gets {warm} s of unmeasured load, then `{line}` ({secs} s, {conns} \
         connections) with the seed record `{seed}` as the body. The wrk script's `response()` \
         checks **every** response: status 200 and the body (`wasmtime serve`: exactly \
         `{out}`; `boundary serve`: starts with `{{\"path\":NAME,\"output\":{out},` and then its \
         traffic and timing fields). RSS is `VmRSS` of the server process before and after the \
         measured run; cores busy are its user+system CPU time (`/proc/PID/stat`) over the wall \
         time of the run, and machine cores busy the same for every process (`/proc/stat`: the \
         server, wrk, and whatever else the machine ran meanwhile).\n",
        cores = raw.cores_available,
        wrk = raw.wrk_version,
        warm = raw.warm_up_secs,
        line = wrk_line,
        secs = raw.duration_secs,
        conns = raw.wrk_connections,
        seed = raw.seed_body,
        out = raw.expected_output,
    );
    let _ = writeln!(
        md,
        "| target | requests/s | p50 | p99 | max | responses checked | non-200 | wrong body | socket errors | RSS before → after (MiB) | cores busy | machine cores busy |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in raw.rows {
        let w = &r.wrk;
        let _ = writeln!(
            md,
            "| {} | {:.0} | {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} → {} ({:+.1}) | {:.2} | {:.2} |",
            r.target,
            w.requests_per_sec(),
            fmt_ms(w.p50_us),
            fmt_ms(w.p99_us),
            fmt_ms(w.max_us),
            w.checked,
            w.non200,
            w.wrong_body,
            w.socket_errors(),
            fmt_mib(r.rss_before_kib),
            fmt_mib(r.rss_after_kib),
            (r.rss_after_kib as f64 - r.rss_before_kib as f64) / 1024.0,
            r.cores,
            r.machine_cores,
        );
    }

    // The mixed load's large requests.
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for l in raw.large {
        *statuses.entry(l.status).or_default() += 1;
    }
    let ok: Vec<&Large> = raw.large.iter().filter(|l| l.status == 200).collect();
    let correct = ok.iter().filter(|l| l.correct).count();
    let mut ms: Vec<f64> = ok.iter().map(|l| l.ms).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
    let max = ms.last().copied().unwrap_or(f64::NAN);
    let status_list = statuses
        .iter()
        .map(|(s, n)| {
            if *s == 0 {
                format!("{n} × no answer")
            } else {
                format!("{n} × {s}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        md,
        "\n## Mixed load\n\n\
         The `mixed` row: wrk's small requests to the component path while {large} clients each \
         post a {mib:.1} MiB record (7,300 names of 1,000 bytes) to the same path in a loop, one \
         connection per request. Large requests answered: {total} ({status_list}); {correct} of \
         the 200s carried exactly the transformed record; a 200 took {median:.0} ms at the median \
         and {max:.0} ms at most (client-side, queueing included).\n\n\
         Before wrk started, the large requests ran alone for {alone_secs} s: the server kept \
         {alone_cores:.2} cores busy (the machine {alone_machine:.2}; the rest is the clients in \
         this process). Once they had stopped and the server had been idle for a second, its RSS \
         was {idle_mib} MiB.",
        large = raw.large_clients,
        mib = raw.large_body_bytes as f64 / (1 << 20) as f64,
        total = raw.large.len(),
        alone_secs = raw.large_only.secs,
        alone_cores = raw.large_only.cores,
        alone_machine = raw.large_only.machine_cores,
        idle_mib = fmt_mib(raw.large_only.rss_idle_after_kib),
    );
    let notes: Vec<&str> = raw
        .large
        .iter()
        .filter(|l| l.status != 200)
        .map(|l| l.note.as_str())
        .collect();
    if let Some(first) = notes.first() {
        let _ = writeln!(md, "\nThe first answer that was not a 200: `{first}`.");
    }

    // Goals.
    let steady: Vec<&Row> = raw
        .rows
        .iter()
        .filter(|r| !r.target.starts_with("mixed"))
        .collect();
    let mixed = raw.rows.iter().find(|r| r.target.starts_with("mixed"));
    let busiest = raw
        .rows
        .iter()
        .filter(|r| r.server == "boundary")
        .map(|r| r.cores)
        .fold(0.0, f64::max);
    let errors: f64 = raw.rows.iter().map(|r| r.wrk.errors()).sum();
    let large_bad = raw
        .large
        .iter()
        .filter(|l| !((l.status == 200 && l.correct) || l.status == 503 || l.status == 504))
        .count();
    let growth = steady
        .iter()
        .map(|r| (r.rss_after_kib as f64 - r.rss_before_kib as f64) / 1024.0)
        .fold(f64::MIN, f64::max);
    let _ = writeln!(
        md,
        "\n## Goals\n\n| goal | figure | verdict |\n|---|---|---|"
    );
    let _ = writeln!(
        md,
        "| `boundary serve` keeps ≥ 1.7 cores busy | {busiest:.2} cores under wrk (best `boundary \
         serve` row); {:.2} on the large requests alone | {} |",
        raw.large_only.cores,
        verdict(busiest.max(raw.large_only.cores) >= 1.7)
    );
    if let Some(m) = mixed {
        let _ = writeln!(
            md,
            "| small p99 ≤ 50 ms beside {} ~7 MiB requests | {} | {} |",
            raw.large_clients,
            fmt_ms(m.wrk.p99_us),
            verdict(m.wrk.p99_us <= 50_000.0)
        );
    }
    let _ = writeln!(
        md,
        "| 0 errors or wrong bodies (every row; large requests 200 with the right record, or 503/504) | {errors:.0} small, {large_bad} large | {} |",
        verdict(errors == 0.0 && large_bad == 0)
    );
    let _ = writeln!(
        md,
        "| RSS growth ≤ 5 MiB over a measured run (steady rows) | {growth:+.1} MiB at most | {} |",
        verdict(growth <= 5.0)
    );
    let saturated = raw
        .rows
        .iter()
        .filter(|r| r.machine_cores >= 0.9 * raw.cores_available as f64)
        .count();
    if saturated > 0 {
        let _ = writeln!(
            md,
            "\nIn {saturated} of {} rows the machine's cores were at least 90% busy (last column): \
             the server shared them with wrk, the large clients in this process and whatever else \
             ran, so its own cores-busy figure and the latencies are bounded by what was left.",
            raw.rows.len()
        );
    }
    md
}

/// Writes `text` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(text.as_bytes())?;
    let mut permissions = file.as_file().metadata()?.permissions();
    // A temporary file is private (0600); the report is not.
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    file.as_file().set_permissions(permissions)?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let wrk = Wrk {
        bin: find_wrk()?,
        threads: args.threads.min(args.connections),
        connections: args.connections,
    };
    let boundary = match args.boundary {
        Some(b) => b,
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("cannot find the directory of this example")?
            .join("boundary"),
    };
    if !boundary.is_file() {
        bail!(
            "{} not found: run `cargo build --release -p boundary-cli` or pass --boundary",
            boundary.display()
        );
    }
    let dir = tempfile::tempdir()?;
    let dist = match args.dist {
        Some(d) => d,
        None if Path::new("web/dist/index.html").is_file() => PathBuf::from("web/dist"),
        None => {
            let stub = dir.path().join("dist");
            std::fs::create_dir_all(&stub)?;
            std::fs::write(
                stub.join("index.html"),
                "<!doctype html><title>stub</title>\n",
            )?;
            stub
        }
    };
    let guests = dir.path().join("guests");
    let status = Command::new(&boundary)
        .args(["inspect", "--write-guests"])
        .arg(&guests)
        .stdout(Stdio::null())
        .status()
        .context("cannot run boundary inspect --write-guests")?;
    if !status.success() {
        bail!("`boundary inspect --write-guests` failed ({status})");
    }
    let wrk_version = Command::new(&wrk.bin)
        .arg("--version")
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines()
                .next()
                .unwrap_or("wrk")
                .split(" Copyright")
                .next()
                .unwrap_or("wrk")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|_| "wrk".into());

    let secs = args.duration;
    let mut rows = Vec::new();
    let (large_only, large, large_bytes) = {
        let mut command = Command::new(&boundary);
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--dist"])
            .arg(&dist);
        let server = Server::start(command, "boundary serve")?;
        for path in ["component", "raw"] {
            let url = format!("http://{}/api/transform?path={path}", server.addr);
            let target = Target {
                server: "boundary",
                name: format!("`boundary serve`, {path} path"),
                url,
                expected: boundary_prefix(path),
                exact: false,
            };
            rows.push(measure(&wrk, secs, dir.path(), &server, &target)?);
        }
        let (row, large_only, large, bytes) = mixed(&wrk, secs, dir.path(), &server, args.large)?;
        rows.push(row);
        (large_only, large, bytes)
    };
    {
        let mut command = Command::new(&args.wasmtime);
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .arg(guests.join("http.component.wasm"));
        let server = Server::start(command, "wasmtime serve")?;
        let url = format!("http://{}/transform", server.addr);
        let target = Target {
            server: "wasmtime",
            name: "`wasmtime serve`, http guest".into(),
            url,
            expected: SEED_OUT.into(),
            exact: true,
        };
        rows.push(measure(&wrk, secs, dir.path(), &server, &target)?);
    }

    let raw = Raw {
        cores_available: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        wrk_version,
        wrk_threads: wrk.threads,
        wrk_connections: wrk.connections,
        duration_secs: secs,
        warm_up_secs: WARM_UP_SECS,
        seed_body: SEED,
        expected_output: SEED_OUT,
        rows: &rows,
        large_clients: args.large,
        large_body_bytes: large_bytes,
        large_only: &large_only,
        large: &large,
    };
    let wrk_line = format!(
        "wrk -t{} -c{} -d{secs}s --timeout 10s --latency -s check.lua URL",
        wrk.threads, wrk.connections
    );
    let md = report(&raw, &wrk_line);
    write_atomically(&args.out, &md)?;
    write_atomically(
        &args.out.with_extension("json"),
        &(serde_json::to_string_pretty(&raw)? + "\n"),
    )?;
    print!("{md}");
    eprintln!("wrote {} and its .json", args.out.display());
    Ok(())
}
