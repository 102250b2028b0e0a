//! The sandbox's control switches, `POST /sandbox/reset` and
//! `POST /sandbox/rotate-keys`: for test harnesses, never for browsers.
//!
//! They change state and authenticate nobody, so another site must not be
//! able to fire them through a visitor's browser (a cross-site request
//! forgery against a sandbox on `127.0.0.1`). Two checks, both needed:
//!
//! - a request with an `Origin` (RFC 6454 §7; browsers send it on every
//!   cross-origin POST) that is not one of the allowed origins is refused;
//! - the request must carry `X-Sandbox-Control: 1`. No HTML form can send a
//!   header of its own (the WHATWG Fetch standard's "CORS-safelisted" request
//!   headers are all a form or a no-cors `fetch` can set), so a cross-site
//!   page would need a CORS preflight — and these routes sit outside the CORS
//!   layer, so the preflight gets no `Access-Control-Allow-Origin` and the
//!   browser never sends the request.
//!
//! Both refusals are `403`: the request is understood and not allowed (`415`
//! would wrongly suggest another body would do). With `SANDBOX_CONTROLS=off`
//! the routes do not exist at all (`404`, and not in `/openapi.json`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::error::ApiError;
use crate::state::Sandbox;

/// The marker header a control request must carry, with the value `1`.
pub const CONTROL_HEADER: HeaderName = HeaderName::from_static("x-sandbox-control");

/// The control routes' paths, for leaving them out of the OpenAPI document.
pub const PATHS: [&str; 2] = ["/sandbox/reset", "/sandbox/rotate-keys"];

/// The control routes, guarded; none when the controls are off.
pub fn routes(sandbox: &Sandbox) -> Router<Sandbox> {
    if !sandbox.config.controls {
        return Router::new();
    }
    Router::new()
        .route("/sandbox/rotate-keys", post(rotate_keys))
        .route("/sandbox/reset", post(reset))
        .route_layer(middleware::from_fn_with_state(sandbox.clone(), guard))
}

async fn guard(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    match admit(&sandbox.config.allowed_origins, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// Refuses a foreign `Origin`, then a request without the marker header.
fn admit(allowed_origins: &[String], headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        if !allowed_origins
            .iter()
            .any(|allowed| allowed.as_bytes() == origin.as_bytes())
        {
            return Err(ApiError::Forbidden(
                "cross_origin_refused",
                "sandbox controls refuse requests from other origins",
            ));
        }
    }
    match headers.get(CONTROL_HEADER) {
        Some(value) if value.as_bytes() == b"1" => Ok(()),
        _ => Err(ApiError::Forbidden(
            "control_header_required",
            "send X-Sandbox-Control: 1 (a header no HTML form can send)",
        )),
    }
}

/// `POST /sandbox/rotate-keys`: a sandbox-only switch to exercise rotation.
#[utoipa::path(
    post,
    path = "/sandbox/rotate-keys",
    tag = "sandbox",
    params(("X-Sandbox-Control" = String, Header, pattern = "^1$", description = "Must be `1`: a header no HTML form can send")),
    responses(
        (status = 204, description = "A new key signs from now on"),
        (status = 403, description = "cross_origin_refused (an `Origin` not allowed), control_header_required", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After: the signing key took over less than 30 s ago", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn rotate_keys(State(sandbox): State<Sandbox>) -> Result<StatusCode, ApiError> {
    sandbox
        .rotate_keys_if_due(sandbox.clock.now(), true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /sandbox/reset`: the seed data again (as `--reset`), for tests
/// that pay invoices.
#[utoipa::path(
    post,
    path = "/sandbox/reset",
    tag = "sandbox",
    params(("X-Sandbox-Control" = String, Header, pattern = "^1$", description = "Must be `1`: a header no HTML form can send")),
    responses(
        (status = 204, description = "Every record is the seed's again (OAuth tokens issued before are forgotten)"),
        (status = 403, description = "cross_origin_refused (an `Origin` not allowed), control_header_required", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn reset(State(sandbox): State<Sandbox>) -> Result<StatusCode, ApiError> {
    sandbox.reset().await.map_err(|error| {
        tracing::error!(%error, "reset failed");
        ApiError::Internal
    })?;
    Ok(StatusCode::NO_CONTENT)
}
