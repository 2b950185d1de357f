//! The `wasi:http/incoming-handler` export: a request in through the `wasip2` bindings, the
//! answer of [`route::handle`] out.

use std::io::{self, Read, Write as _};

use crate::route;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
    ResponseOutparam,
};
use wasip2::io::streams::InputStream;

/// The `wasi:http/incoming-handler` export.
#[derive(Debug)]
pub struct Handler;

wasip2::http::proxy::export!(Handler);

impl Guest for Handler {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = method_name(&request.method());
        let target = request.path_with_query().unwrap_or_else(|| "/".to_owned());
        let response = route::handle(&method, &target, content_length(&request), || {
            RequestBody::open(&request)
        });
        send(response, response_out);
    }
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => return other.to_ascii_uppercase(),
    }
    .to_owned()
}

/// The declared `Content-Length`, if there is exactly one and it is a number.
fn content_length(request: &IncomingRequest) -> Option<u64> {
    match request.headers().get("content-length").as_slice() {
        [value] => std::str::from_utf8(value).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// The request body as a [`Read`]er. The stream is a child of the body resource, so it is declared
/// first and dropped first.
struct RequestBody {
    stream: InputStream,
    _body: IncomingBody,
}

impl RequestBody {
    fn open(request: &IncomingRequest) -> io::Result<Self> {
        let body = request
            .consume()
            .map_err(|()| io::Error::other("the request body was already taken"))?;
        let stream = body
            .stream()
            .map_err(|()| io::Error::other("the request body has no stream"))?;
        Ok(Self {
            stream,
            _body: body,
        })
    }
}

impl Read for RequestBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut self.stream, buf)
    }
}

/// Sends `response`. If the host refuses the headers, the client gets the host's 500 instead.
fn send(response: route::Response, out: ResponseOutparam) {
    let mut headers = vec![
        (
            "content-type".to_owned(),
            response.content_type.as_bytes().to_vec(),
        ),
        (
            "content-length".to_owned(),
            response.body.len().to_string().into_bytes(),
        ),
    ];
    if let Some(allow) = response.allow {
        headers.push(("allow".to_owned(), allow.as_bytes().to_vec()));
    }
    let built = Fields::from_list(&headers)
        .map_err(|e| format!("headers refused: {e:?}"))
        .and_then(|fields| {
            let outgoing = OutgoingResponse::new(fields);
            outgoing
                .set_status_code(response.status)
                .map_err(|()| format!("status {} refused", response.status))?;
            let body = outgoing
                .body()
                .map_err(|()| "the response body was already taken".to_owned())?;
            Ok((outgoing, body))
        });
    let (outgoing, body) = match built {
        Ok(built) => built,
        Err(message) => {
            ResponseOutparam::set(out, Err(ErrorCode::InternalError(Some(message))));
            return;
        }
    };
    ResponseOutparam::set(out, Ok(outgoing));
    // Past this point the status is sent; a failed write can only cut the body short, which the
    // client sees against the Content-Length.
    let written = body.write().is_ok_and(|mut stream| {
        let ok = stream.write_all(&response.body).is_ok() && stream.flush().is_ok();
        drop(stream);
        ok
    });
    if written {
        // The host reports a body of the wrong length here; nothing is left to tell the client.
        let _ = OutgoingBody::finish(body, None);
    }
}
