//! The large requests of the mixed load, and their body checks, through a maintained HTTP client
//! (`ureq`, plain HTTP/1.1): each on a fresh connection, announced with `Expect: 100-continue`
//! so that a server that refuses at once (`503`) answers before the ~7 MiB body is sent.

use std::time::{Duration, Instant};

use serde::Serialize;

/// How long one large request may take before the client gives up on it.
pub const LARGE_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest answer read: the large record's output and the server's fields, with room.
const MAX_ANSWER_BYTES: u64 = 64 << 20;

/// One large request's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Large {
    /// The HTTP status, or 0 when the exchange failed.
    pub status: u16,
    /// For a 200: whether the output was the transformed record, byte for byte.
    pub correct: bool,
    /// How long it took, client-side, queueing included.
    pub ms: f64,
    /// For a failure or a non-200: the first line of the answer or error.
    pub note: String,
}

/// A client for large requests: no connection is kept between two of them, no status is an
/// error (the caller looks at each), and every exchange is bounded by [`LARGE_TIMEOUT`].
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client for large requests.
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(LARGE_TIMEOUT))
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Self { agent }
    }

    /// POSTs `body` as JSON to `url` and returns the status and the answer.
    ///
    /// # Errors
    ///
    /// The client's error, on one line, when no answer came (refused, reset, timed out).
    pub fn post(&self, url: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
        let mut response = self
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Expect", "100-continue")
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok((status, answer))
    }

    /// POSTs `body` and checks the answer: a 200 is correct when it starts with `expected`
    /// (a byte comparison, so that checking costs the load little CPU).
    pub fn post_checked(&self, url: &str, body: &[u8], expected: &[u8]) -> Large {
        let start = Instant::now();
        let outcome = self.post(url, body);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        match outcome {
            Ok((status, answer)) => Large {
                status,
                correct: status == 200 && answer.starts_with(expected),
                ms,
                note: if status == 200 {
                    String::new()
                } else {
                    String::from_utf8_lossy(&answer)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .into()
                },
            },
            Err(note) => Large {
                status: 0,
                correct: false,
                ms,
                note,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;

    /// A one-shot server on loopback: reads one request's head (and, when `read_body`, its
    /// body after a `100 Continue`), answers `answer`, and returns the head it read.
    fn serve_once(
        answer: &'static str,
        read_body: bool,
    ) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/transform", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut stream = reader.get_ref().try_clone().unwrap();
            if read_body {
                stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
            }
            stream.write_all(answer.as_bytes()).unwrap();
            head
        });
        (url, server)
    }

    #[test]
    fn a_large_post_is_checked_against_the_expected_start() {
        let (url, server) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{\"output\":1,x}",
            true,
        );
        let large = Client::new().post_checked(&url, &[b'x'; 200_000], b"{\"output\":1");
        assert_eq!((large.status, large.correct), (200, true), "{large:?}");
        let head = server.join().unwrap().to_ascii_lowercase();
        assert!(head.starts_with("post /api/transform http/1.1"), "{head}");
        assert!(head.contains("expect: 100-continue"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
    }

    #[test]
    fn a_refusal_before_the_body_is_read_is_a_status_not_an_error() {
        let (url, server) = serve_once(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\nConnection: close\r\n\r\nlane full\n",
            false,
        );
        let large = Client::new().post_checked(&url, &vec![b'x'; 8 << 20], b"{");
        assert_eq!(large.status, 503, "{large:?}");
        assert!(!large.correct);
        assert_eq!(large.note, "lane full");
        server.join().unwrap();
    }

    #[test]
    fn no_answer_is_status_zero_with_the_reason() {
        // A port nothing listens on.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let large = Client::new().post_checked(&url, b"{}", b"{");
        assert_eq!((large.status, large.correct), (0, false));
        assert!(
            !large.note.is_empty() && !large.note.contains('\n'),
            "{}",
            large.note
        );
    }
}
