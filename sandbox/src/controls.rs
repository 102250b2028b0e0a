//! The sandbox's control switches, for test harnesses, never for browsers:
//! `POST /sandbox/reset`, `POST /sandbox/rotate-keys`, `POST /sandbox/clock`
//! (move time forward), `POST /sandbox/tokens/{jti}/expire|revoke` (end
//! one checkout token now) and `POST /sandbox/webhook` (pause or resume
//! event delivery, in `events`). A merchant's own browser tests can use them to
//! play the vendor's refusals with real tokens.
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

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::ended::Ended;
use crate::error::{json_body, ApiError};
use crate::state::Sandbox;

/// The marker header a control request must carry, with the value `1`.
pub const CONTROL_HEADER: HeaderName = HeaderName::from_static("x-sandbox-control");

/// The control routes' paths, for leaving them out of the OpenAPI document.
pub const PATHS: [&str; 6] = [
    "/sandbox/reset",
    "/sandbox/rotate-keys",
    "/sandbox/clock",
    "/sandbox/tokens/{jti}/expire",
    "/sandbox/tokens/{jti}/revoke",
    "/sandbox/webhook",
];

/// The most one `POST /sandbox/clock` moves time: thirty days, more than
/// any lifetime in the sandbox (a bigger number is a harness's bug).
pub const MAX_ADVANCE_SECS: u64 = 30 * 24 * 3600;

/// The control routes, guarded; none when the controls are off.
pub fn routes(sandbox: &Sandbox) -> Router<Sandbox> {
    if !sandbox.config.controls {
        return Router::new();
    }
    Router::new()
        .route("/sandbox/rotate-keys", post(rotate_keys))
        .route("/sandbox/reset", post(reset))
        .route("/sandbox/clock", post(advance_clock))
        .route("/sandbox/tokens/{jti}/expire", post(expire_token))
        .route("/sandbox/tokens/{jti}/revoke", post(revoke_token))
        .route("/sandbox/webhook", post(crate::events::pause_delivery))
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

/// How far to move the sandbox's clock.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AdvanceClock {
    /// Whole seconds, 0 to 2,592,000 (thirty days).
    // An `Option` only so that a missing one gets this API's own 400.
    #[schema(value_type = u64, required = true, minimum = 0, maximum = 2_592_000)]
    advance_secs: Option<serde_json::Number>,
}

/// The sandbox's clock after the move.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockNow {
    /// Seconds since the Unix epoch, as the sandbox now tells time (and
    /// stamps `Date`, `iat` and `exp`).
    now: u64,
    /// How far every `POST /sandbox/clock` so far has moved it, in seconds.
    advanced_secs: u64,
}

/// `POST /sandbox/clock`: moves the sandbox's clock forward for everything
/// it does: token expiry, the `Date` header, rate-limit windows, key
/// rotation. Tokens already issued keep their `exp`, so moving the clock
/// past it expires them, as time would.
#[utoipa::path(
    post,
    path = "/sandbox/clock",
    tag = "sandbox",
    params(("X-Sandbox-Control" = String, Header, pattern = "^1$", description = "Must be `1`: a header no HTML form can send")),
    request_body = AdvanceClock,
    responses(
        (status = 200, body = ClockNow),
        (status = 400, description = "invalid_request: advance_secs missing, not a whole number, or over thirty days", body = crate::error::ApiErrorBody),
        (status = 403, description = "cross_origin_refused (an `Origin` not allowed), control_header_required", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn advance_clock(
    State(sandbox): State<Sandbox>,
    body: Result<Json<AdvanceClock>, JsonRejection>,
) -> Result<Json<ClockNow>, ApiError> {
    let secs = json_body(body)?
        .advance_secs
        .as_ref()
        .and_then(whole_seconds)
        .filter(|secs| *secs <= MAX_ADVANCE_SECS)
        .ok_or(ApiError::InvalidRequest(
            "advance_secs must be a whole number of seconds from 0 to 2592000",
        ))?;
    sandbox
        .clock_shift
        .advance(std::time::Duration::from_secs(secs));
    let advanced_secs = sandbox.clock_shift.millis() / 1000;
    tracing::warn!(secs, advanced_secs, "sandbox clock moved forward");
    Ok(Json(ClockNow {
        now: sandbox.clock.now(),
        advanced_secs,
    }))
}

/// A whole number of seconds; JSON Schema counts `30.0` as an integer too.
fn whole_seconds(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= MAX_ADVANCE_SECS as f64)
            .map(|f| f as u64)
    })
}

/// `POST /sandbox/tokens/{jti}/expire`: the checkout token with this `jti`
/// is refused from now on as expired (`401 access_token_expired`), as if
/// its `exp` had passed.
#[utoipa::path(
    post,
    path = "/sandbox/tokens/{jti}/expire",
    tag = "sandbox",
    params(
        ("jti" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "The token's `jti` claim"),
        ("X-Sandbox-Control" = String, Header, pattern = "^1$", description = "Must be `1`: a header no HTML form can send"),
    ),
    responses(
        (status = 204, description = "Refused as expired from now on (whether or not such a token was issued)"),
        (status = 400, description = "invalid_request: not a token id", body = crate::error::ApiErrorBody),
        (status = 403, description = "cross_origin_refused (an `Origin` not allowed), control_header_required", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After: 100,000 ended tokens are all still remembered", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn expire_token(
    State(sandbox): State<Sandbox>,
    Path(jti): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_token(&sandbox, &jti, Ended::Expired)
}

/// `POST /sandbox/tokens/{jti}/revoke`: the checkout token with this `jti`
/// is refused from now on as invalid (`401 invalid_token`), as a vendor
/// refuses a token it withdrew.
#[utoipa::path(
    post,
    path = "/sandbox/tokens/{jti}/revoke",
    tag = "sandbox",
    params(
        ("jti" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "The token's `jti` claim"),
        ("X-Sandbox-Control" = String, Header, pattern = "^1$", description = "Must be `1`: a header no HTML form can send"),
    ),
    responses(
        (status = 204, description = "Refused as invalid from now on (whether or not such a token was issued)"),
        (status = 400, description = "invalid_request: not a token id", body = crate::error::ApiErrorBody),
        (status = 403, description = "cross_origin_refused (an `Origin` not allowed), control_header_required", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After: 100,000 ended tokens are all still remembered", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn revoke_token(
    State(sandbox): State<Sandbox>,
    Path(jti): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_token(&sandbox, &jti, Ended::Revoked)
}

pub(crate) fn end_token(sandbox: &Sandbox, jti: &str, how: Ended) -> Result<StatusCode, ApiError> {
    if !crate::ids::well_formed(jti) {
        return Err(ApiError::InvalidRequest("not a token id"));
    }
    let now = sandbox.clock.now();
    // No token with this id can be valid after this, so the entry can go.
    let forget_after =
        now + sandbox.config.checkout_token_ttl.as_secs() + crate::token::LEEWAY_SECS;
    sandbox
        .ended
        .end(jti, how, now, forget_after)
        .map_err(|_full| ApiError::RateLimited {
            retry_after_secs: 60,
        })?;
    tracing::warn!(%jti, ?how, "checkout token ended early by a sandbox control");
    Ok(StatusCode::NO_CONTENT)
}
