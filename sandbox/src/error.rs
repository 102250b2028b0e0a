//! How the sandbox says no. Two shapes, as a real vendor has: RFC 6749 §5.2
//! bodies on the OAuth endpoint, and `{code, message}` bodies (with RFC 6750
//! `WWW-Authenticate` on 401) everywhere else.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Errors of the OAuth token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest(&'static str),
    InvalidClient,
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1's `server_error`, the sandbox's own failure.
    ServerError,
    /// Over the per-client rate limit: `temporarily_unavailable` with 429.
    RateLimited {
        retry_after_secs: u64,
    },
}

/// RFC 6749 §5.2 error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    error: &'static str,
    error_description: &'static str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            Self::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            Self::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            ),
            Self::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            ),
            Self::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the sandbox failed; see its log",
            ),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "too many token requests; retry after the time in Retry-After",
            ),
        };
        let mut response = (
            status,
            Json(OAuthErrorBody {
                error,
                error_description: description,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Self::RateLimited { retry_after_secs } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a 401 names the authentication scheme the client should use.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"alternative-sandbox\""),
            );
        }
        response
    }
}

/// Errors of every other endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// No bearer token, or one that is malformed, forged or unknown.
    InvalidToken,
    /// A genuine token past its `exp`: the SDK should ask for a new one.
    TokenExpired,
    /// A missing or malformed field in the request body.
    InvalidRequest(&'static str),
    /// A valid token asking for something outside its scope (RFC 6750 §3.1).
    InsufficientScope,
    NotFound(&'static str),
    /// Understood and refused, not for want of a token: `{code, message}`.
    Forbidden(&'static str, &'static str),
    Conflict(&'static str),
    /// Well-formed, but cannot be done as asked (e.g. a wrong amount).
    Unprocessable(&'static str, &'static str),
    /// A body over `limits::MAX_BODY_BYTES`.
    PayloadTooLarge,
    /// Over the per-key rate limit.
    RateLimited {
        retry_after_secs: u64,
    },
    /// An injected fault (see `faults`): the vendor pretending to be down.
    Unavailable,
    /// The sandbox failed; details go to its log, not to the caller.
    Internal,
}

/// The JSON body, or the error that says what was wrong with it.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(body)) => Ok(body),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::PayloadTooLarge)
        }
        Err(_) => Err(ApiError::InvalidRequest("the body must be a JSON object")),
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        tracing::error!(%error, "sandbox storage failed");
        Self::Internal
    }
}

/// Every non-OAuth error: a stable `code` and a sentence.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    code: &'static str,
    message: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is missing or invalid",
            ),
            Self::TokenExpired => (
                StatusCode::UNAUTHORIZED,
                "access_token_expired",
                "the access token has expired; request a new one",
            ),
            Self::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            Self::InsufficientScope => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the access token does not cover this request",
            ),
            Self::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what),
            Self::Forbidden(code, why) => (StatusCode::FORBIDDEN, code, why),
            Self::Conflict(why) => (StatusCode::CONFLICT, "conflict", why),
            Self::Unprocessable(code, why) => (StatusCode::UNPROCESSABLE_ENTITY, code, why),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            ),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests for this key; retry after the time in Retry-After",
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is temporarily unavailable",
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the sandbox failed; see its log",
            ),
        };
        let mut response = (status, Json(ApiErrorBody { code, message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3.1: both cases are `invalid_token` on the wire; the
            // JSON `code` tells "refresh me" apart from "you are not allowed".
            let challenge = if self == Self::TokenExpired {
                "Bearer error=\"invalid_token\", error_description=\"The access token expired\""
            } else {
                "Bearer error=\"invalid_token\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if self == Self::InsufficientScope {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
            );
        }
        response
    }
}
