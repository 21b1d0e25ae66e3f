//! The one error type of the HTTP boundary.
//!
//! Every variant maps to a status code and a stable snake_case `code`; the JSON body is
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`. Server errors log their
//! cause chain and show nothing of it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field is missing or malformed.
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    #[error("request body must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("not authorized: {0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Well formed, but a field refers to something that does not exist (an unknown
    /// agent): 422 naming the field.
    #[error("{field}: {message}")]
    UnknownReference { field: String, message: String },
    /// The route exists but not with this method: 405 with `Allow`.
    #[error("method not allowed; use {allow}")]
    MethodNotAllowed { allow: &'static str },
    /// The request was fine but something it needs is not set up (e.g. Slack not connected).
    #[error("{message}")]
    Unprocessable { code: String, message: String },
    /// Try again later: a transient failure upstream or a concurrent duplicate.
    #[error("temporarily unavailable: {code}")]
    RetryLater { code: String, retry_after_secs: u64 },
    /// Over a rate limit: 429 with `Retry-After`.
    #[error("too many requests; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    fn code(&self) -> &str {
        match self {
            Self::InvalidField { .. } => "invalid_field",
            Self::UnknownReference { .. } => "unknown_reference",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Unprocessable { code, .. } | Self::RetryLater { code, .. } => code,
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Database(sqlx::Error::PoolTimedOut) => Self::RetryLater {
                code: "database_busy".into(),
                retry_after_secs: 5,
            },
            // The storage cannot take writes (full, read-only, I/O): nothing was written,
            // and the caller (Slack, Zendesk) should come back shortly.
            other => match other.fault() {
                Some(fault) => Self::RetryLater {
                    code: fault.code().into(),
                    retry_after_secs: 5,
                },
                None => Self::internal(other),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidField { .. } => StatusCode::BAD_REQUEST,
            Self::UnknownReference { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RetryLater { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            Self::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({"error": {"code": self.code(), "message": message}});
        if let Self::InvalidField { field, .. } | Self::UnknownReference { field, .. } = self {
            body["error"]["field"] = json!(field);
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RetryLater {
            retry_after_secs, ..
        }
        | Self::TooManyRequests { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.insert_header((header::RETRY_AFTER, value));
        }
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, *allow));
        }
        response.json(body)
    }
}

/// `outer: inner: innermost`, for logs.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
