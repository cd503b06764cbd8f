//! Every failed request answers with an `application/problem+json` body carrying a stable code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tandem_protocol::{Problem, ProblemCode};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidMerchantId(String),
    #[error("the page origin {0} may not embed this merchant's widget")]
    OriginNotAllowed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, ProblemCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, ProblemCode::NotFound, "Not found"),
            Self::InvalidMerchantId(_) => {
                (StatusCode::BAD_REQUEST, ProblemCode::InvalidMerchantId, "Invalid merchant id")
            }
            Self::OriginNotAllowed(_) => {
                (StatusCode::FORBIDDEN, ProblemCode::OriginNotAllowed, "Origin not allowed")
            }
            Self::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, ProblemCode::Internal, "Internal error"),
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
        let problem = Problem { title: title.to_owned(), status: status.as_u16(), detail, code };
        let mut response = (status, axum::Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}
