//! The HTTP routes, as plain Rust over [`std::io::Read`]: no WASI here, so the host runs these
//! tests and the component only adds the `wasi:http` plumbing (`lib.rs`).
//!
//! | request | answer |
//! |---|---|
//! | `POST /transform`, body a JSON record | 200, `application/json`: the transformed record |
//! | `GET /button-text?status=S` | 200, `text/plain; charset=utf-8`: the label alone, no newline |
//! | bad JSON, bad query | 400, one line of `text/plain` |
//! | body over [`MAX_BODY`] | 413, one line; the body is read no further than the cap |
//! | another path | 404, one line |
//! | another method on a known path | 405 with `Allow`, one line |
//!
//! Every error body is a single line ending in `\n`.

use std::io::{self, Read};

use boundary_kernel::SomeDataStruct;

/// The largest `POST /transform` body: the cap `boundary serve` puts on `/api/transform`
/// (`MAX_TRANSFORM_BODY`, 8 MiB). A larger body gets 413 and is read no further than this.
pub const MAX_BODY: usize = 8 << 20;

/// `Content-Type` of `POST /transform`'s answer.
pub const JSON: &str = "application/json";
/// `Content-Type` of `GET /button-text`'s answer and of every error.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The `Allow` header, sent with 405.
    pub allow: Option<&'static str>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            allow: None,
            body,
        }
    }

    /// An error: `message` on one line (control characters escaped), then `\n`.
    fn error(status: u16, message: &str) -> Self {
        let mut line = String::with_capacity(message.len() + 1);
        for c in message.chars() {
            if c.is_control() {
                line.extend(c.escape_default());
            } else {
                line.push(c);
            }
        }
        line.push('\n');
        Self {
            status,
            content_type: TEXT,
            allow: None,
            body: line.into_bytes(),
        }
    }

    fn method_not_allowed(method: &str, path: &str, allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::error(405, &format!("{method} {path} is not served: use {allow}"))
        }
    }
}

/// Answers one request.
///
/// `method` is the HTTP method in upper case, `path_with_query` the request target (`/path?query`),
/// `content_length` the `Content-Length` header if the client sent one, and `open_body` opens the
/// request body; it is called only for `POST /transform` with a declared length within the cap.
pub fn handle<R: Read>(
    method: &str,
    path_with_query: &str,
    content_length: Option<u64>,
    open_body: impl FnOnce() -> io::Result<R>,
) -> Response {
    let (path, query) = match path_with_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_with_query, None),
    };
    match (path, method) {
        ("/transform", "POST") => transform(content_length, open_body),
        ("/transform", _) => Response::method_not_allowed(method, path, "POST"),
        ("/button-text", "GET") => button_text(query.unwrap_or("")),
        ("/button-text", _) => Response::method_not_allowed(method, path, "GET"),
        _ => Response::error(
            404,
            &format!(
                "no route for {path:?}: this component serves POST /transform and GET /button-text?status=..."
            ),
        ),
    }
}

fn transform<R: Read>(
    content_length: Option<u64>,
    open_body: impl FnOnce() -> io::Result<R>,
) -> Response {
    let too_large = || {
        Response::error(
            413,
            &format!("request body is over the {MAX_BODY}-byte cap (8 MiB)"),
        )
    };
    if content_length.is_some_and(|length| length > MAX_BODY as u64) {
        return too_large();
    }
    let body = match open_body().and_then(|body| read_capped(body, MAX_BODY, content_length)) {
        Ok(Some(body)) => body,
        Ok(None) => return too_large(),
        Err(e) => return Response::error(400, &format!("could not read the request body: {e}")),
    };
    let record: SomeDataStruct = match serde_json::from_slice(&body) {
        Ok(record) => record,
        Err(e) => return Response::error(400, &format!("bad JSON: {e}")),
    };
    drop(body);
    match serde_json::to_vec(&boundary_kernel::transform(record)) {
        Ok(json) => Response::ok(JSON, json),
        Err(e) => Response::error(500, &format!("could not encode the result: {e}")),
    }
}

/// Reads `reader` to its end, or `None` as soon as it has given more than `cap` bytes: at most
/// `cap + 1` bytes are ever read or held. `size_hint` (a declared length) only presizes the buffer.
///
/// # Errors
///
/// The reader's errors.
pub fn read_capped(
    reader: impl Read,
    cap: usize,
    size_hint: Option<u64>,
) -> io::Result<Option<Vec<u8>>> {
    let hint = size_hint.map_or(0, |hint| usize::try_from(hint).unwrap_or(cap).min(cap));
    let mut body = Vec::with_capacity(hint);
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut body)?;
    Ok((body.len() <= cap).then_some(body))
}

fn button_text(query: &str) -> Response {
    let status = query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == "status");
    let Some((_, raw)) = status else {
        return Response::error(
            400,
            "missing query parameter status: try GET /button-text?status=PENDING",
        );
    };
    match percent_decode(raw) {
        Some(status) => Response::ok(
            TEXT,
            boundary_kernel::button_text(&status).as_bytes().to_vec(),
        ),
        None => Response::error(400, "bad query parameter status: not percent-encoded UTF-8"),
    }
}

/// Decodes a query value (`%XX` escapes, `+` for a space); `None` if it is malformed or not UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let (hex, tail) = rest.split_at_checked(2)?;
                let hex = std::str::from_utf8(hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                rest = tail;
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Cursor;

    use super::*;

    fn call(method: &str, target: &str, body: &[u8]) -> Response {
        handle(method, target, Some(body.len() as u64), || {
            Ok(Cursor::new(body.to_vec()))
        })
    }

    fn text(response: &Response) -> &str {
        std::str::from_utf8(&response.body).unwrap()
    }

    fn assert_one_line_error(response: &Response, status: u16) {
        assert_eq!(response.status, status, "{}", text(response));
        assert_eq!(response.content_type, TEXT);
        let body = text(response);
        assert!(body.ends_with('\n'), "{body:?}");
        assert_eq!(body.lines().count(), 1, "{body:?}");
    }

    #[test]
    fn transform_answers_the_kernels_output_as_json() {
        let input = SomeDataStruct {
            name: "Grüße".into(),
            names: vec!["🦀".into(), String::new()],
        };
        let response = call("POST", "/transform", &serde_json::to_vec(&input).unwrap());
        assert_eq!(response.status, 200, "{}", text(&response));
        assert_eq!(response.content_type, JSON);
        let output: SomeDataStruct = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(output, boundary_kernel::transform(input));
    }

    #[test]
    fn bad_json_is_a_one_line_400() {
        for body in [
            &b""[..],
            b"{",
            b"[1,2]",
            b"{\"name\":\"a\",\"names\":[],\"x\\ny\":1}",
            b"\xff",
        ] {
            let response = call("POST", "/transform", body);
            assert_one_line_error(&response, 400);
            assert!(
                text(&response).starts_with("bad JSON: "),
                "{}",
                text(&response)
            );
        }
    }

    #[test]
    fn a_declared_length_over_the_cap_is_refused_without_opening_the_body() {
        let response = handle(
            "POST",
            "/transform",
            Some(MAX_BODY as u64 + 1),
            || -> io::Result<Cursor<Vec<u8>>> { panic!("the body was opened") },
        );
        assert_one_line_error(&response, 413);
    }

    #[test]
    fn an_undeclared_body_over_the_cap_is_read_only_to_the_cap() {
        /// An endless body that counts what is read from it.
        struct Endless(u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                buf.fill(b' ');
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
        }
        let mut endless = Endless(0);
        let response = handle("POST", "/transform", None, || Ok(&mut endless));
        assert_one_line_error(&response, 413);
        assert_eq!(endless.0, MAX_BODY as u64 + 1);
    }

    #[test]
    fn a_body_of_exactly_the_cap_is_accepted() {
        let record = br#"{"name":"n","names":[]}"#;
        let mut body = vec![b' '; MAX_BODY - record.len()];
        body.extend_from_slice(record);
        let response = handle("POST", "/transform", None, || Ok(Cursor::new(body)));
        assert_eq!(response.status, 200, "{}", text(&response));
    }

    #[test]
    fn a_body_that_fails_to_read_is_a_400() {
        let response = handle("POST", "/transform", None, || {
            Err::<Cursor<Vec<u8>>, _>(io::Error::other("stream\nbroke"))
        });
        assert_one_line_error(&response, 400);
    }

    #[test]
    fn button_text_is_the_kernels_label_for_any_case() {
        for (query, label) in [
            ("status=PENDING", "edit"),
            ("status=pending", "edit"),
            ("a=1&status=Done", "delete"),
            ("status=%44%4f%4e%45", "delete"),
            ("status=archived", "an error has occurred"),
            ("status=", "an error has occurred"),
            ("status", "an error has occurred"),
            ("status=P+E", "an error has occurred"),
        ] {
            let response = call("GET", &format!("/button-text?{query}"), b"");
            assert_eq!(response.status, 200, "{query}");
            assert_eq!(response.content_type, TEXT);
            assert_eq!(text(&response), label, "{query}");
        }
    }

    #[test]
    fn a_missing_or_malformed_status_is_a_400() {
        for target in [
            "/button-text",
            "/button-text?",
            "/button-text?state=DONE",
            "/button-text?status=%4",
            "/button-text?status=%zz",
            "/button-text?status=%ff",
        ] {
            assert_one_line_error(&call("GET", target, b""), 400);
        }
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_one_line_error(&call("GET", "/", b""), 404);
        assert_one_line_error(&call("POST", "/transform/x", b""), 404);
        for (method, target, allow) in [
            ("GET", "/transform", "POST"),
            ("PUT", "/transform", "POST"),
            ("POST", "/button-text?status=DONE", "GET"),
            ("HEAD", "/button-text", "GET"),
        ] {
            let response = call(method, target, b"");
            assert_one_line_error(&response, 405);
            assert_eq!(response.allow, Some(allow));
        }
    }
}
