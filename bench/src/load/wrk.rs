//! `wrk`, the load generator: the Lua script that POSTs a body and checks **every** response
//! (status and body), running wrk for a bounded time, and reading the figures the script's
//! `done()` prints. wrk is installed by `just setup-wrk`, never by this crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::LoadTestError;
use super::supervisor::resolve;

/// What the Lua script's `done()` prints after this marker, as JSON.
pub const FIGURES_MARKER: &str = "BENCH_JSON ";

/// What the Lua script's `done()` prints, after [`FIGURES_MARKER`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrkFigures {
    /// Requests completed.
    pub requests: f64,
    /// How long wrk ran, in microseconds.
    pub duration_us: f64,
    /// Responses the script's `response()` saw.
    pub checked: f64,
    /// Responses whose status was not 200.
    pub non200: f64,
    /// 200s whose body was not the expected one.
    pub wrong_body: f64,
    /// The status of the first non-200 response, 0 if none.
    pub first_bad_status: f64,
    /// Connections that failed.
    pub connect_errors: f64,
    /// Reads that failed.
    pub read_errors: f64,
    /// Writes that failed.
    pub write_errors: f64,
    /// Requests that timed out.
    pub timeouts: f64,
    /// Latency percentiles and maximum, in microseconds.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// The slowest.
    pub max_us: f64,
}

impl WrkFigures {
    /// Requests per second.
    pub fn requests_per_sec(&self) -> f64 {
        self.requests / (self.duration_us / 1e6).max(1e-9)
    }

    /// Connect, read and write errors and timeouts.
    pub fn socket_errors(&self) -> f64 {
        self.connect_errors + self.read_errors + self.write_errors + self.timeouts
    }

    /// Every response that was not a 200 with the right body, and every socket error.
    pub fn errors(&self) -> f64 {
        self.non200 + self.wrong_body + self.socket_errors()
    }
}

/// The figures in wrk's standard output: the line after [`FIGURES_MARKER`].
///
/// # Errors
///
/// [`LoadTestError::NoFigures`] without such a line, [`LoadTestError::Figures`] if it is not
/// the JSON the script prints.
pub fn parse_output(stdout: &str) -> Result<WrkFigures, LoadTestError> {
    let json = stdout
        .lines()
        .find_map(|l| l.strip_prefix(FIGURES_MARKER))
        .ok_or_else(|| LoadTestError::NoFigures(one_line(stdout)))?;
    serde_json::from_str(json).map_err(|source| LoadTestError::Figures {
        json: json.to_owned(),
        source,
    })
}

/// A Lua long string holding `s` (JSON never holds `]==]`).
fn lua_string(s: &str) -> String {
    format!("[==[{s}]==]")
}

/// A wrk script that POSTs `body` and checks every response: status 200 and a body equal to
/// `expected` (`exact`) or starting with it.
pub fn lua_script(body: &str, expected: &str, exact: bool) -> String {
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
  io.write(string.format('{marker}{{"requests":%.0f,"duration_us":%.0f,"checked":%.0f,"non200":%.0f,"wrong_body":%.0f,"first_bad_status":%.0f,"connect_errors":%.0f,"read_errors":%.0f,"write_errors":%.0f,"timeouts":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f}}\n',
    summary.requests, summary.duration, c, n, w, b, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"#,
        marker = FIGURES_MARKER,
        body = lua_string(body),
        expected = lua_string(expected),
    )
}

/// How wrk is run.
#[derive(Debug, Clone)]
pub struct Wrk {
    /// The binary.
    pub bin: PathBuf,
    /// wrk's threads (at most the connections).
    pub threads: u32,
    /// wrk's open connections.
    pub connections: u32,
}

impl Wrk {
    /// wrk from `program` (a file, or a name looked up on `$PATH`).
    ///
    /// # Errors
    ///
    /// [`LoadTestError::WrkMissing`], which names `just setup-wrk`, when there is none.
    pub fn find(program: &Path, threads: u32, connections: u32) -> Result<Self, LoadTestError> {
        Ok(Self {
            bin: resolve(program).ok_or(LoadTestError::WrkMissing)?,
            threads: threads.min(connections),
            connections,
        })
    }

    /// The command line of a run of `secs` seconds with `script` on `url`.
    pub fn command_line(&self, secs: u64, script: &Path, url: &str) -> Vec<String> {
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

    /// The same, as the report shows it: `wrk -t2 -c32 -d10s ... -s check.lua URL`.
    pub fn shown(&self, secs: u64) -> String {
        format!(
            "wrk -t{} -c{} -d{secs}s --timeout 10s --latency -s check.lua URL",
            self.threads, self.connections
        )
    }

    /// Runs wrk for `secs` seconds with `script` on `url`.
    ///
    /// # Errors
    ///
    /// [`LoadTestError::Spawn`] or [`LoadTestError::Failed`] if wrk does not run, and the
    /// errors of [`parse_output`].
    pub fn run(&self, secs: u64, script: &Path, url: &str) -> Result<WrkFigures, LoadTestError> {
        let line = self.command_line(secs, script, url);
        let output = Command::new(&self.bin)
            .args(&line[1..])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| LoadTestError::Spawn {
                command: line.join(" "),
                source,
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(LoadTestError::Failed {
                command: line.join(" "),
                status: output.status,
                output: one_line(&format!(
                    "{} {}",
                    stdout,
                    String::from_utf8_lossy(&output.stderr)
                )),
            });
        }
        parse_output(&stdout)
    }

    /// `wrk 4.1.0 [epoll]`: the first line of `wrk --version`, without the copyright.
    pub fn version(&self) -> String {
        Command::new(&self.bin)
            .arg("--version")
            .output()
            .map(|o| {
                version_of(
                    &(String::from_utf8_lossy(&o.stdout).into_owned()
                        + &String::from_utf8_lossy(&o.stderr)),
                )
            })
            .unwrap_or_else(|_| "wrk".into())
    }
}

/// The version in what `wrk --version` prints.
fn version_of(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("wrk")
        .split(" Copyright")
        .next()
        .unwrap_or("wrk")
        .trim()
        .to_owned()
}

/// Text on one line, whitespace runs folded.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What wrk 4.1 prints with the script: its own summary, then the script's line.
    const OUTPUT: &str = "Running 10s test @ http://127.0.0.1:8080/api/transform?path=raw
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   80.00%
  Latency Distribution
     50%    1.10ms
  200000 requests in 10.00s, 40.00MB read
Requests/sec:  20000.00
Transfer/sec:      4.00MB
BENCH_JSON {\"requests\":200000,\"duration_us\":10000000,\"checked\":200000,\"non200\":2,\"wrong_body\":1,\"first_bad_status\":503,\"connect_errors\":0,\"read_errors\":3,\"write_errors\":0,\"timeouts\":4,\"p50_us\":1100,\"p90_us\":1500,\"p99_us\":2500,\"max_us\":9000}
";

    #[test]
    fn the_scripts_figures_are_read_from_wrks_output() {
        let figures = parse_output(OUTPUT).unwrap();
        assert_eq!(figures.requests, 200_000.0);
        assert_eq!(figures.requests_per_sec(), 20_000.0);
        assert_eq!(figures.first_bad_status, 503.0);
        assert_eq!(figures.socket_errors(), 7.0);
        assert_eq!(figures.errors(), 10.0);
        assert_eq!(figures.p99_us, 2_500.0);
    }

    #[test]
    fn output_without_figures_or_with_broken_ones_is_an_error_on_one_line() {
        let error =
            parse_output("unable to connect to 127.0.0.1:1\nConnection refused\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "wrk printed no figures: unable to connect to 127.0.0.1:1 Connection refused"
        );
        let error = parse_output("BENCH_JSON {\"requests\":1}\n").unwrap_err();
        assert!(matches!(error, LoadTestError::Figures { .. }), "{error}");
        assert!(!error.to_string().contains('\n'));
    }

    #[test]
    fn the_script_posts_the_body_and_checks_against_the_expected_one() {
        let script = lua_script(r#"{"a":1}"#, r#"{"b":2}"#, true);
        assert!(script.contains("wrk.body = [==[{\"a\":1}]==]"), "{script}");
        assert!(script.contains("local expected = [==[{\"b\":2}]==]"));
        assert!(script.contains("local exact = true"));
        assert!(script.contains(&format!("io.write(string.format('{FIGURES_MARKER}{{")));
        assert!(lua_script("x", "y", false).contains("local exact = false"));
    }

    #[test]
    fn the_command_line_bounds_the_run_and_names_the_script() {
        let wrk = Wrk {
            bin: "/usr/bin/wrk".into(),
            threads: 2,
            connections: 32,
        };
        let line = wrk.command_line(5, Path::new("/tmp/s.lua"), "http://127.0.0.1:1/");
        assert_eq!(
            line.join(" "),
            "/usr/bin/wrk -t2 -c32 -d5s --timeout 10s --latency -s /tmp/s.lua http://127.0.0.1:1/"
        );
        assert_eq!(
            version_of("wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer\nUsage: ..."),
            "wrk 4.1.0 [epoll]"
        );
    }

    #[test]
    fn a_missing_wrk_names_the_setup_recipe() {
        let error = Wrk::find(Path::new("/no/such/wrk"), 2, 32).unwrap_err();
        assert!(error.is_setup());
        assert!(error.to_string().contains("just setup-wrk"), "{error}");
        // At most one thread per connection.
        let wrk = Wrk::find(Path::new("sh"), 8, 4).unwrap();
        assert_eq!((wrk.threads, wrk.connections), (4, 4));
    }
}
