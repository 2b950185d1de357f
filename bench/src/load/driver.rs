//! Driving the load: for every registered path, wrk's small requests to `boundary serve`
//! (`/api/transform?path=NAME`), then the mixed load on that path (large requests from this
//! process beside wrk's small ones); then `wasmtime serve` running the wasi:http guest. Each
//! measured run is bounded in time and preceded by an unmeasured warm-up; the server's RSS and
//! CPU are probed around it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use boundary_kernel::SomeDataStruct;
use serde::Serialize;

use super::LoadTestError;
use super::client::{Client, Large};
use super::probe::Probe;
use super::report::Raw;
use super::supervisor::Server;
use super::wrk::{Wrk, WrkFigures, lua_script};

/// The body of every small request: the seed record.
pub const SEED: &str = r#"{"name":"name3","names":["name1","name2"]}"#;
/// What the kernel makes of [`SEED`].
pub const SEED_OUT: &str = r#"{"name":"name3","names":["name1","name2","new name"]}"#;
/// Seconds of unmeasured load before each measured run.
pub const WARM_UP_SECS: u64 = 2;

/// What one run loads, and with what.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seconds of measured load per target.
    pub secs: u64,
    /// Large requests running beside the small ones in each mixed load.
    pub large: u32,
    /// The load generator.
    pub wrk: Wrk,
    /// The `boundary` binary.
    pub boundary: PathBuf,
    /// The `wasmtime` CLI, or `None` to load `boundary serve` only.
    pub wasmtime: Option<PathBuf>,
    /// The built web app `boundary serve` needs, or `None` for a stub.
    pub dist: Option<PathBuf>,
    /// The registered paths to load, in order (`boundary_guests::paths()`).
    pub paths: Vec<&'static str>,
}

/// One measured target.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `boundary` or `wasmtime`: the server under load.
    pub server: &'static str,
    /// What was loaded, for the report.
    pub target: String,
    /// The URL wrk loaded.
    pub url: String,
    /// wrk's figures.
    pub wrk: WrkFigures,
    /// The server's RSS before the measured run, in KiB.
    pub rss_before_kib: u64,
    /// And after it.
    pub rss_after_kib: u64,
    /// The server's CPU time over the wall time.
    pub cores: f64,
    /// The whole machine's busy CPU time over the wall time (the server, wrk, and anything else).
    pub machine_cores: f64,
    /// Whether it ran beside the large requests.
    pub mixed: bool,
}

/// A mixed load's first phase: the large requests alone, no wrk.
#[derive(Debug, Clone, Serialize)]
pub struct LargeOnly {
    /// How long they ran alone.
    pub secs: u64,
    /// The server's cores busy meanwhile.
    pub cores: f64,
    /// The machine's.
    pub machine_cores: f64,
    /// The server's RSS once the large clients had stopped and it was idle for a second.
    pub rss_idle_after_kib: u64,
}

/// One path's mixed load: the large requests alone, then beside wrk's small ones.
#[derive(Debug, Clone, Serialize)]
pub struct Mixed {
    /// The registered path.
    pub path: &'static str,
    /// The large requests alone.
    pub large_only: LargeOnly,
    /// Every large request's outcome.
    pub large: Vec<Large>,
}

/// A server's route under load, and what each response must be.
#[derive(Debug, Clone)]
struct Target {
    server: &'static str,
    name: String,
    url: String,
    /// The body, or (not `exact`) its start.
    expected: String,
    exact: bool,
}

/// The start of what `boundary serve`'s `/api/transform?path=NAME` answers for [`SEED`]: the
/// path, the output, then traffic and timing fields that vary.
pub fn boundary_prefix(path: &str) -> String {
    format!(r#"{{"path":"{path}","output":{SEED_OUT},"#)
}

/// The large record: 7,300 names of 1,000 bytes, about 7 MiB of JSON.
pub fn large_record() -> SomeDataStruct {
    SomeDataStruct {
        name: "large".into(),
        names: (0..7_300).map(|i| format!("{i:0>1000}")).collect(),
    }
}

/// A file name for a target's script: its letters and digits, spaces as dashes.
fn script_name(target: &str) -> String {
    target
        .chars()
        .filter_map(|c| match c {
            c if c.is_ascii_alphanumeric() => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

fn scratch(path: &Path, contents: &str) -> Result<(), LoadTestError> {
    std::fs::write(path, contents).map_err(|source| LoadTestError::Scratch {
        path: path.to_owned(),
        source,
    })
}

/// The row of a run measured between two probes.
fn row(target: &Target, wrk: WrkFigures, before: Probe, after: Probe, mixed: bool) -> Row {
    let (cores, machine_cores) = before.busy_until(&after);
    Row {
        server: target.server,
        target: target.name.clone(),
        url: target.url.clone(),
        wrk,
        rss_before_kib: before.rss_kib,
        rss_after_kib: after.rss_kib,
        cores,
        machine_cores,
        mixed,
    }
}

/// The load test, one target after the other.
#[derive(Debug)]
pub struct Driver {
    settings: Settings,
    dir: tempfile::TempDir,
}

impl Driver {
    /// A driver with a scratch directory for the scripts, the stub web app and the guests.
    ///
    /// # Errors
    ///
    /// [`LoadTestError::Missing`] when the `boundary` binary (or the `wasmtime` CLI, if asked
    /// for) is not there, [`LoadTestError::Scratch`] when the directory cannot be made.
    pub fn new(settings: Settings) -> Result<Self, LoadTestError> {
        if !settings.boundary.is_file() {
            return Err(LoadTestError::Missing {
                path: settings.boundary.clone(),
                hint: "run `cargo build --release -p boundary-cli` or pass --boundary",
            });
        }
        let dir = tempfile::tempdir().map_err(|source| LoadTestError::Scratch {
            path: std::env::temp_dir(),
            source,
        })?;
        Ok(Self { settings, dir })
    }

    /// Loads every target and returns everything measured.
    ///
    /// # Errors
    ///
    /// The first [`LoadTestError`]; every server started so far has been killed.
    pub fn run(&self) -> Result<Raw, LoadTestError> {
        let mut rows = Vec::new();
        let mut mixed = Vec::new();
        let large_bytes;
        {
            let server = self.boundary_serve()?;
            for &path in &self.settings.paths {
                let target = Target {
                    server: "boundary",
                    name: format!("`boundary serve`, {path} path"),
                    url: format!("http://{}/api/transform?path={path}", server.addr()),
                    expected: boundary_prefix(path),
                    exact: false,
                };
                rows.push(self.measure(&server, &target)?);
            }
            let record = large_record();
            let body = serde_json::to_vec(&record).map_err(LoadTestError::Encode)?;
            large_bytes = body.len();
            // What a correct answer starts with: serde_json's compact form, as the server writes it.
            let output = serde_json::to_string(&boundary_kernel::transform(record))
                .map_err(LoadTestError::Encode)?;
            for &path in &self.settings.paths {
                let expected = format!(r#"{{"path":"{path}","output":{output},"#);
                let (row, one) = self.mixed(&server, path, &body, expected.as_bytes())?;
                rows.push(row);
                mixed.push(one);
            }
        }
        if let Some(wasmtime) = &self.settings.wasmtime {
            let guests = self.write_guests()?;
            let mut command = Command::new(wasmtime);
            command
                .args(["serve", "--addr", "127.0.0.1:0"])
                .arg(guests.join(boundary_guests::HTTP_COMPONENT_FILE_NAME));
            let server = Server::start(command, "wasmtime serve")?;
            let target = Target {
                server: "wasmtime",
                name: "`wasmtime serve`, http guest".into(),
                url: format!("http://{}/transform", server.addr()),
                expected: SEED_OUT.into(),
                exact: true,
            };
            rows.push(self.measure(&server, &target)?);
        }
        let wrk = &self.settings.wrk;
        Ok(Raw {
            cores_available: std::thread::available_parallelism().map_or(1, usize::from),
            wrk_version: wrk.version(),
            wrk_line: wrk.shown(self.settings.secs),
            wrk_threads: wrk.threads,
            wrk_connections: wrk.connections,
            duration_secs: self.settings.secs,
            warm_up_secs: WARM_UP_SECS,
            seed_body: SEED,
            expected_output: SEED_OUT,
            paths: self.settings.paths.clone(),
            wasmtime_loaded: self.settings.wasmtime.is_some(),
            rows,
            large_clients: self.settings.large,
            large_body_bytes: large_bytes,
            mixed,
        })
    }

    /// `boundary serve` on a free loopback port, with the web app or a stub.
    fn boundary_serve(&self) -> Result<Server, LoadTestError> {
        let dist = match &self.settings.dist {
            Some(dist) => dist.clone(),
            None if Path::new("web/dist/index.html").is_file() => PathBuf::from("web/dist"),
            None => {
                let stub = self.dir.path().join("dist");
                std::fs::create_dir_all(&stub).map_err(|source| LoadTestError::Scratch {
                    path: stub.clone(),
                    source,
                })?;
                scratch(
                    &stub.join("index.html"),
                    "<!doctype html><title>stub</title>\n",
                )?;
                stub
            }
        };
        let mut command = Command::new(&self.settings.boundary);
        command
            // The load test posts no to-do items: keep them in memory, not in the user's database.
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--db",
                ":memory:",
                "--dist",
            ])
            .arg(dist);
        Server::start(command, "boundary serve")
    }

    /// The embedded guests, written by `boundary inspect --write-guests`.
    fn write_guests(&self) -> Result<PathBuf, LoadTestError> {
        let guests = self.dir.path().join("guests");
        let mut command = Command::new(&self.settings.boundary);
        command
            .args(["inspect", "--write-guests"])
            .arg(&guests)
            .stdout(Stdio::null());
        let shown = format!("{command:?}");
        let status = command.status().map_err(|source| LoadTestError::Spawn {
            command: shown.clone(),
            source,
        })?;
        if !status.success() {
            return Err(LoadTestError::Failed {
                command: shown,
                status,
                output: String::new(),
            });
        }
        Ok(guests)
    }

    /// Writes the target's script and returns its file.
    fn script(&self, target: &Target) -> Result<PathBuf, LoadTestError> {
        let script = self
            .dir
            .path()
            .join(format!("{}.lua", script_name(&target.name)));
        scratch(&script, &lua_script(SEED, &target.expected, target.exact))?;
        Ok(script)
    }

    /// Warms up, then measures one target: wrk's figures, the server's RSS and CPU around it.
    fn measure(&self, server: &Server, target: &Target) -> Result<Row, LoadTestError> {
        let (wrk, secs) = (&self.settings.wrk, self.settings.secs);
        let script = self.script(target)?;
        eprintln!(
            "{}: warm-up {WARM_UP_SECS} s, then {secs} s of load on {}",
            target.name, target.url
        );
        wrk.run(WARM_UP_SECS, &script, &target.url)?;
        let before = Probe::take(server.pid())?;
        let figures = wrk.run(secs, &script, &target.url)?;
        let after = Probe::take(server.pid())?;
        Ok(row(target, figures, before, after, false))
    }

    /// The mixed load on `path`: `large` clients post `body` in a loop, first alone, then
    /// while wrk sends small requests to the same path.
    fn mixed(
        &self,
        server: &Server,
        path: &'static str,
        body: &[u8],
        expected: &[u8],
    ) -> Result<(Row, Mixed), LoadTestError> {
        let (wrk, secs, large) = (&self.settings.wrk, self.settings.secs, self.settings.large);
        let url = format!("http://{}/api/transform?path={path}", server.addr());
        let target = Target {
            server: "boundary",
            name: format!("mixed: small beside large, {path}"),
            url: url.clone(),
            expected: boundary_prefix(path),
            exact: false,
        };
        let script = self.script(&target)?;
        let stop = AtomicBool::new(false);
        let outcomes = Mutex::new(Vec::new());
        let client = Client::new();
        eprintln!(
            "{}: {large} clients posting {:.1} MiB records, and {secs} s of small ones on {url}",
            target.name,
            body.len() as f64 / f64::from(1 << 20)
        );
        let measured = std::thread::scope(|scope| {
            for _ in 0..large {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let outcome = client.post_checked(&url, body, expected);
                        if let Ok(mut outcomes) = outcomes.lock() {
                            outcomes.push(outcome);
                        }
                    }
                });
            }
            let measured = (|| {
                // Let every large client get its first request going.
                std::thread::sleep(Duration::from_millis(500));
                // First the large requests alone: how many cores the server keeps busy on them.
                let alone = Probe::take(server.pid())?;
                std::thread::sleep(Duration::from_secs(secs));
                let alone_after = Probe::take(server.pid())?;
                let before = Probe::take(server.pid())?;
                let figures = wrk.run(secs, &script, &url)?;
                let after = Probe::take(server.pid())?;
                Ok::<_, LoadTestError>((alone, alone_after, before, figures, after))
            })();
            stop.store(true, Ordering::Relaxed);
            measured
        });
        let (alone, alone_after, before, figures, after) = measured?;
        // What the server holds once the large requests are over and it has been idle a moment.
        std::thread::sleep(Duration::from_secs(1));
        let idle = Probe::take(server.pid())?;
        let (cores, machine_cores) = alone.busy_until(&alone_after);
        let large = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok((
            row(&target, figures, before, after, true),
            Mixed {
                path,
                large_only: LargeOnly {
                    secs,
                    cores,
                    machine_cores,
                    rss_idle_after_kib: idle.rss_kib,
                },
                large,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_answers_are_the_kernels() {
        let seed: SomeDataStruct = serde_json::from_str(SEED).unwrap();
        assert_eq!(
            serde_json::to_string(&boundary_kernel::transform(seed)).unwrap(),
            SEED_OUT
        );
        assert_eq!(
            boundary_prefix("raw"),
            format!("{{\"path\":\"raw\",\"output\":{SEED_OUT},")
        );
        let large = serde_json::to_vec(&large_record()).unwrap();
        assert!((6 << 20..8 << 20).contains(&large.len()), "{}", large.len());
    }

    #[test]
    fn script_names_keep_letters_digits_and_dashes() {
        assert_eq!(
            script_name("`boundary serve`, raw path"),
            "boundary-serve-raw-path"
        );
        assert_eq!(
            script_name("mixed: small beside large, component"),
            "mixed-small-beside-large-component"
        );
    }

    #[test]
    fn a_missing_boundary_binary_is_a_setup_error_naming_the_flag() {
        let settings = Settings {
            secs: 1,
            large: 0,
            wrk: Wrk {
                bin: "wrk".into(),
                threads: 1,
                connections: 1,
            },
            boundary: "/no/such/boundary".into(),
            wasmtime: None,
            dist: None,
            paths: vec!["component"],
        };
        let error = Driver::new(settings).unwrap_err();
        assert!(error.is_setup());
        assert!(error.to_string().contains("--boundary"), "{error}");
    }
}
