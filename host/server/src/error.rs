//! Error responses: [`ApiError`], a status and the one-line [`ErrorBody`](crate::api::ErrorBody),
//! and the status each failure gets (the status table of the crate's doc). A failed guest call
//! is classified once, by the library ([`CallError::fault`]); [`status_of`] maps that class to a
//! status.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boundary_host::{CallError, Fault, Limit};

use crate::admission::{RETRY_AFTER_SECS, Refusal, ThreadFailed};
use crate::api::ErrorBody;
use crate::store::StoreError;

/// What a handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

/// An error response: a status and [`ErrorBody`], and a `Retry-After` for a refusal.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u32>,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A `500` with this message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The same error, telling the client to retry after `secs` seconds.
    #[must_use]
    pub fn retry_after(self, secs: u32) -> Self {
        Self {
            retry_after: Some(secs),
            ..self
        }
    }

    /// A body or URL that did not parse: `413` when over the cap, `400` otherwise (axum itself
    /// answers some of these with `415` or `422`; the API promises `400` for bad input).
    pub fn bad_input(status: StatusCode, message: String) -> Self {
        let status = if status == StatusCode::PAYLOAD_TOO_LARGE {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::new(status, message)
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The status of a failed guest call, by whose fault it is: the one map from the library's
/// classification to HTTP. `limit` ([`CallError::limit`]) tells an input over
/// `--max-input-bytes` (`413`) from one the host cannot encode (`400`).
pub fn status_of(fault: Fault, limit: Option<Limit>) -> StatusCode {
    match fault {
        Fault::Input if limit == Some(Limit::MaxInputBytes) => StatusCode::PAYLOAD_TOO_LARGE,
        Fault::Input => StatusCode::BAD_REQUEST,
        Fault::Refused => StatusCode::UNPROCESSABLE_ENTITY,
        Fault::Deadline => StatusCode::GATEWAY_TIMEOUT,
        Fault::Limit | Fault::Broken => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self::bad_input(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_input(rejection.status(), rejection.body_text())
    }
}

impl From<CallError> for ApiError {
    /// The status of [`status_of`]; a limit's message ends with its flag.
    fn from(error: CallError) -> Self {
        let limit = error.limit();
        let status = status_of(error.fault(), limit);
        let mut message = boundary_host::error::one_line(&error);
        if let Some(limit) = limit {
            message = format!("{message} ({})", limit.flag());
        }
        Self::new(status, message)
    }
}

impl From<Refusal> for ApiError {
    /// A full lane is `503` with `Retry-After`; a closed one (which does not happen) `500`.
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Full { .. } => Self::new(StatusCode::SERVICE_UNAVAILABLE, refusal.to_string())
                .retry_after(RETRY_AFTER_SECS),
            Refusal::Closed => Self::internal(refusal.to_string()),
        }
    }
}

impl From<ThreadFailed> for ApiError {
    fn from(failed: ThreadFailed) -> Self {
        Self::internal(failed.to_string())
    }
}

impl From<StoreError> for ApiError {
    /// An unknown id is `404`, a store at its cap or on a full disk `507 Insufficient
    /// Storage`, a failing one `500`.
    fn from(error: StoreError) -> Self {
        let status = match &error {
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Full(_) | StoreError::NoSpace(_) => StatusCode::INSUFFICIENT_STORAGE,
            StoreError::Backend(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, boundary_host::error::one_line(&error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_its_status() {
        for (fault, limit, status) in [
            (Fault::Input, Some(Limit::MaxInputBytes), 413),
            (Fault::Input, None, 400),
            (Fault::Refused, None, 422),
            (Fault::Deadline, Some(Limit::Deadline), 504),
            (Fault::Limit, Some(Limit::MaxOutputBytes), 500),
            (Fault::Limit, Some(Limit::Fuel), 500),
            (Fault::Broken, None, 500),
        ] {
            assert_eq!(status_of(fault, limit).as_u16(), status, "{fault:?}");
        }
    }
}
