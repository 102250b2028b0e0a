//! A request id for every request: the `X-Request-Id` a trusted proxy
//! (`MERCHANT_TRUSTED_PROXIES`, judged on the TCP peer's address) sent,
//! when it has a safe shape, else a new one. It is in the request's log
//! span (`request_id`), in the answer's `X-Request-Id`, and on every
//! vendor call the request causes, so one id finds a failed payment in the
//! merchant's logs and the vendor's.
//!
//! Anyone else's id is replaced: a client choosing the id its requests are
//! logged under could file them under another request's id (or everyone's
//! under one), muddling the very search the id is for.

use std::net::SocketAddr;
use std::sync::Arc;

use alternative_client::{with_request_id, RequestId};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

use crate::TrustedProxies;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Takes (from a trusted proxy) or makes the id, puts it in the request
/// (for the span below and the server functions, `app::api`), runs the
/// request with it as the vendor client's request id, and names it in the
/// answer.
pub async fn assign(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    // No peer address (a test's request without one): trusted by no one.
    let from_proxy = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| proxies.trusts(peer.ip()));
    let id = from_proxy
        .then(|| request.headers().get(&X_REQUEST_ID))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(RequestId::new)
        .unwrap_or_else(RequestId::random);
    request.extensions_mut().insert(id.clone());
    let mut response = with_request_id(id.clone(), next.run(request)).await;
    let value = HeaderValue::from_str(id.as_str()).expect("a RequestId is a header value");
    response.headers_mut().insert(X_REQUEST_ID, value);
    response
}

/// The span every log line of a request is in: method, path (not the
/// query) and the request id.
pub fn span(request: &axum::http::Request<Body>) -> Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id = id,
    )
}
