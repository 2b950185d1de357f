//! The servers under load, each a child process: started, its address read from what it prints
//! (`http://ADDR/`), its output drained for the rest of its life, and killed and reaped when
//! dropped, also when the run fails.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::LoadTestError;

/// How long a server may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A server started as a child process: killed and reaped when dropped.
#[derive(Debug)]
pub struct Server {
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
    ///
    /// # Errors
    ///
    /// [`LoadTestError::Spawn`] if it does not start, [`LoadTestError::NoAddress`] if it prints
    /// no address within [`START_TIMEOUT`] (what it printed is in the error),
    /// [`LoadTestError::BadAddress`] if the address does not parse. The child is killed.
    pub fn start(mut command: Command, what: &str) -> Result<Self, LoadTestError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| LoadTestError::Spawn {
            command: format!("{what} ({command:?})"),
            source,
        })?;
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
            let Ok(line) = rx.recv_timeout(left) else {
                return Err(LoadTestError::NoAddress {
                    what: what.to_owned(),
                    timeout: START_TIMEOUT,
                    said: seen.join(" | "),
                });
            };
            if let Some(addr) = address_in(&line) {
                server.addr = addr.ok_or_else(|| LoadTestError::BadAddress {
                    what: what.to_owned(),
                    line: line.clone(),
                })?;
                break;
            }
            seen.push(line);
        }
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in rx {});
        Ok(server)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id, for the probes.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The address in a line that holds `http://`: `Some(None)` if what follows is not one.
fn address_in(line: &str) -> Option<Option<SocketAddr>> {
    let rest = line.split("http://").nth(1)?;
    Some(rest.trim_end().trim_end_matches('/').parse().ok())
}

/// The first file called `name` in a directory of `$PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `program` itself if it names a file (`./wasmtime`, `/usr/bin/wrk`), else its first match on
/// `$PATH`.
pub fn resolve(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    on_path(&program.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_what_a_server_prints() {
        assert_eq!(
            address_in("serving http://127.0.0.1:8080/"),
            Some(Some(SocketAddr::from(([127, 0, 0, 1], 8080))))
        );
        // wasmtime serve's line.
        assert_eq!(
            address_in("Serving HTTP on http://127.0.0.1:40123/"),
            Some(Some(SocketAddr::from(([127, 0, 0, 1], 40123))))
        );
        assert_eq!(address_in("http://localhost:1/"), Some(None));
        assert_eq!(address_in("compiling the guests"), None);
    }

    #[test]
    fn a_server_that_prints_no_address_is_killed_and_named() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo starting; exit 0"]);
        let error = Server::start(command, "a mute server").unwrap_err();
        let line = error.to_string();
        assert!(
            line.starts_with("a mute server printed no address"),
            "{line}"
        );
        assert!(line.contains("it said: starting"), "{line}");
    }

    #[test]
    fn a_server_is_started_and_killed_when_dropped() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'serving http://127.0.0.1:9/'; exec sleep 600"]);
        let server = Server::start(command, "sleep").unwrap();
        assert_eq!(server.addr(), SocketAddr::from(([127, 0, 0, 1], 9)));
        let pid = server.pid();
        drop(server);
        // Reaped: no such process any more.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn programs_are_found_on_the_path_or_by_their_file() {
        assert!(resolve(Path::new("sh")).is_some());
        assert!(resolve(Path::new("/no/such/dir/wrk")).is_none());
        assert!(resolve(Path::new("no-such-program-here")).is_none());
    }
}
