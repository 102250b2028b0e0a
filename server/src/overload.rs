//! Overload answered, not queued: at most `MERCHANT_MAX_IN_FLIGHT` requests
//! of the site are worked on at once (tower's concurrency limit), and one
//! more is answered at once — 503 with `Retry-After: 1`, in the body the
//! page already reads as "busy" — instead of waiting in a queue that grows
//! with the load (latency for everyone, memory without bound). Counted
//! ([`SHED`]). The probes and the vendor's webhook sit outside it: a
//! balancer must still hear the instance, and the vendor retries anyway.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::BoxError;

/// Counter: requests answered "busy" at once because the instance was
/// working on as many as it takes.
pub const SHED: &str = "merchant_requests_shed_total";

/// The most requests one instance works on at once by default: far above
/// what a healthy instance holds in flight (at 10,000 reused mints a
/// second, about 40), so only overload meets it.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 512;

/// The answer to a request shed (or to anything else the limit's stack
/// fails with, which it does not).
pub async fn busy(error: BoxError) -> Response {
    if !error.is::<tower::load_shed::error::Overloaded>() {
        tracing::error!(%error, "the request limit failed");
    }
    metrics::counter!(SHED).increment(1);
    let body = r#"{"code":"busy","detail":{"retry_after_secs":1}}"#;
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
