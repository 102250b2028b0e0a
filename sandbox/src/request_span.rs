//! Every log line of a request carries the caller's `X-Request-Id`, as a
//! vendor's support desk would ask for it: a merchant quoting the id of a
//! failed call finds its lines here. Only an id of a safe shape (1–64 of
//! `[A-Za-z0-9._-]`) is logged; anything else, or none, shows as `-`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub async fn span(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .unwrap_or("-")
        .to_owned();
    next.run(request)
        .instrument(tracing::info_span!("vendor_request", request_id = id))
        .await
}
