//! Every failed request answers with an `application/problem+json` body carrying a stable code.

use axum::extract::FromRequest;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tandem_protocol::{Problem, ProblemCode};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidMerchantId(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the request body is larger than this endpoint accepts")]
    PayloadTooLarge,
    #[error("the page origin {0} may not use this merchant's chat")]
    OriginNotAllowed(String),
    #[error(
        "no Origin header: a browser sends the page's origin with every POST and WebSocket; a client of its own must send the origin it acts for"
    )]
    OriginMissing,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests; wait a minute and try again")]
    RateLimited,
    /// Too many live connections at once from one client; closing one makes room.
    #[error("{0}")]
    TooManySockets(&'static str),
    #[error(
        "the identity's hash is not this merchant's HMAC-SHA256 of its id; sign ids on your server with the identity secret from `tandem merchant identity-secret`"
    )]
    IdentityUnverified,
    #[error("{0}")]
    IdentityExpired(String),
    #[error(
        "every place in this merchant's queue is taken; leave a message instead (POST /v1/merchants/{{id}}/messages)"
    )]
    TooBusy,
    #[error("{0}")]
    Conflict(String),
    #[error(
        "only PNG, JPEG and WebP images and PDF documents can be sent, and this file is none of them (its contents are checked, not its name)"
    )]
    UnsupportedFile,
    #[error("a file has at most 5 MB (5,242,880 bytes); send a smaller one, or a screenshot of part of it")]
    FileTooLarge,
    #[error("at most 10 files can be sent in a conversation within an hour; try again later")]
    TooManyFiles,
    #[error("a conversation's transcript is sent at most 3 times")]
    TooManyTranscripts,
    #[error("this path does not take that method; the Allow header lists those it takes")]
    MethodNotAllowed,
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something outside storage failed (a worker thread, an encoder); details are logged.
    #[error("the server could not complete this; try again shortly")]
    Internal,
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, ProblemCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, ProblemCode::NotFound, "Not found"),
            Self::InvalidMerchantId(_) => {
                (StatusCode::BAD_REQUEST, ProblemCode::InvalidMerchantId, "Invalid merchant id")
            }
            Self::InvalidRequest(_) => {
                (StatusCode::BAD_REQUEST, ProblemCode::InvalidRequest, "Invalid request")
            }
            Self::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, ProblemCode::PayloadTooLarge, "Payload too large")
            }
            Self::OriginNotAllowed(_) | Self::OriginMissing => {
                (StatusCode::FORBIDDEN, ProblemCode::OriginNotAllowed, "Origin not allowed")
            }
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ProblemCode::Unauthorized, "Unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, ProblemCode::Forbidden, "Forbidden"),
            Self::RateLimited | Self::TooManySockets(_) => {
                (StatusCode::TOO_MANY_REQUESTS, ProblemCode::RateLimited, "Rate limited")
            }
            Self::IdentityUnverified => {
                (StatusCode::UNPROCESSABLE_ENTITY, ProblemCode::IdentityUnverified, "Identity not verified")
            }
            Self::IdentityExpired(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ProblemCode::IdentityExpired, "Identity expired")
            }
            Self::TooBusy => (StatusCode::SERVICE_UNAVAILABLE, ProblemCode::TooBusy, "Too busy"),
            Self::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, ProblemCode::Unavailable, "Unavailable")
            }
            Self::Conflict(_) => (StatusCode::CONFLICT, ProblemCode::Conflict, "Conflict"),
            Self::UnsupportedFile => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ProblemCode::UnsupportedFileType,
                "Unsupported file type",
            ),
            Self::FileTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, ProblemCode::PayloadTooLarge, "File too large")
            }
            Self::TooManyFiles => (StatusCode::TOO_MANY_REQUESTS, ProblemCode::RateLimited, "Too many files"),
            Self::TooManyTranscripts => {
                (StatusCode::TOO_MANY_REQUESTS, ProblemCode::RateLimited, "Too many transcripts")
            }
            Self::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, ProblemCode::MethodNotAllowed, "Method not allowed")
            }
            Self::Store(_) | Self::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, ProblemCode::Internal, "Internal error")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.status_and_code();
        let detail = if let Self::Store(error) = &self {
            // The cause goes to the log, not to the caller.
            tracing::error!(%error, "request failed");
            "The server could not complete the request; try again shortly.".to_owned()
        } else {
            self.to_string()
        };
        problem_response(status, Problem { title: title.to_owned(), status: status.as_u16(), detail, code })
    }
}

fn problem_response(status: StatusCode, problem: Problem) -> Response {
    let mut response = (status, axum::Json(problem)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// The last word on every error: an answer that is not yet a problem body becomes one. Our
/// handlers and extractors answer with [`AppError`]; this catches what axum and tower-http answer
/// on their own (plain text, or no body), so that no error reaches a client as plain text:
/// - a 405 from the file services (`/widget/`, `/console/`), empty and without `Allow`: it gets
///   `Allow: GET,HEAD` (the API's routes answer through `method_not_allowed_fallback`, which
///   keeps their own `Allow`);
/// - a path or query that does not parse (`/v1/agent/agents/abc/deactivate`, `?days=abc`), and
///   a plain GET of a WebSocket endpoint: `invalid_request` (any other 4xx too), `not_found` for
///   404, `internal` for 5xx, with axum's text as the detail; status and headers unchanged.
pub async fn problem_for_every_error(response: Response) -> Response {
    let status = response.status();
    // What axum and tower-http write themselves: plain text, or nothing. A page that answers
    // an error on purpose (the refused frame page shows the contact page) is HTML, and stays.
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let allow = response.headers().get(header::ALLOW).cloned();
        let mut problem = AppError::MethodNotAllowed.into_response();
        problem.headers_mut().insert(header::ALLOW, allow.unwrap_or(HeaderValue::from_static("GET,HEAD")));
        return problem;
    }
    // The status and the headers (CORS, `Content-Range`…) stay as they were; only the body
    // becomes a problem.
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => ProblemCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ProblemCode::PayloadTooLarge,
        status if status.is_client_error() => ProblemCode::InvalidRequest,
        _ => ProblemCode::Internal,
    };
    let detail = match code {
        ProblemCode::Internal => AppError::Internal.to_string(),
        _ => String::from_utf8_lossy(&text).trim().to_owned(),
    };
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    let mut problem = problem_response(status, Problem { title, status: status.as_u16(), detail, code });
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::TRANSFER_ENCODING] {
        parts.headers.remove(name);
    }
    problem.headers_mut().extend(parts.headers);
    problem
}

/// Why a body or frame with U+0000 in it is refused: no text we store may hold one (PostgreSQL
/// cannot, and no person writes one), so both databases refuse it alike, before storing.
pub const NUL_REFUSED: &str = "text cannot contain the NUL character (U+0000)";

/// Whether any string in `value` (a key included) holds U+0000.
pub fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(fields) => {
            fields.iter().any(|(key, field)| key.contains('\0') || holds_nul(field))
        }
        _ => false,
    }
}

/// A JSON body whose every failure (too large, not JSON, wrong shape) is a problem body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::InvalidRequest(rejection.body_text())
            }
        })?;
        let unreadable =
            |error| AppError::InvalidRequest(format!("the body is not the expected JSON: {error}"));
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(unreadable)?;
        if holds_nul(&value) {
            return Err(AppError::InvalidRequest(NUL_REFUSED.into()));
        }
        serde_json::from_value(value).map(JsonBody).map_err(unreadable)
    }
}
