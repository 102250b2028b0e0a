//! `POST /webhooks/alternative`: the vendor's signed events (a payment), as
//! a merchant's endpoint must receive them. It sits outside the session
//! layer and the cross-site check (the vendor's server has no cookie and no
//! `Origin`; its signature is its credential), reads at most
//! [`MAX_EVENT_BYTES`], verifies the signature over the raw bytes before
//! believing any of them (`alternative_client::webhook`), and answers 2xx
//! only once the event is stored — so a delivery that was not stored is
//! one the vendor sends again.
//!
//! Answers: 200 `{"outcome": …}` for an event stored now or before (a
//! repeat is acknowledged and changes nothing); 400 `{"error": …}` for a
//! missing, malformed or wrong signature, a timestamp outside the tolerance
//! or a malformed event; 413 for a body over the cap; 500 when the database
//! failed (the vendor retries). No answer or log line holds a secret or
//! says which one was tried.

use std::sync::Arc;
use std::time::SystemTime;

use alternative_client::webhook::{
    verify_event, WebhookError, WebhookSecrets, DEFAULT_TOLERANCE, MAX_EVENT_BYTES,
    SIGNATURE_HEADER,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use merchant::CheckoutService;

/// Where the vendor delivers events.
pub const PATH: &str = "/webhooks/alternative";

/// Counter: webhook deliveries, by `outcome` (a refusal's reason, or what
/// the event changed).
pub const DELIVERIES: &str = "merchant_webhook_deliveries_total";

struct Receiver {
    secrets: WebhookSecrets,
    checkout: Arc<CheckoutService>,
}

/// The endpoint, for the site's router.
pub fn routes<S: Clone + Send + Sync + 'static>(
    secrets: WebhookSecrets,
    checkout: Arc<CheckoutService>,
) -> Router<S> {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(MAX_EVENT_BYTES))
        .with_state(Arc::new(Receiver { secrets, checkout }))
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(WebhookError::TooLarge)
        }
        Err(_) => return refuse(WebhookError::Malformed("the body could not be read")),
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let now = SystemTime::now();
    let event = match verify_event(&receiver.secrets, signature, &body, now, DEFAULT_TOLERANCE) {
        Ok(event) => event,
        Err(refused) => return refuse(refused),
    };
    // Verified JSON is UTF-8 (RFC 8259 §8.1).
    let text = String::from_utf8_lossy(&body);
    let unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match receiver.checkout.receive_event(&event, &text, unix).await {
        Ok(recorded) => {
            tracing::info!(event = %event.id, kind = %event.kind, outcome = recorded.label(), "vendor event received");
            metrics::counter!(DELIVERIES, "outcome" => recorded.label()).increment(1);
            (
                StatusCode::OK,
                Json(serde_json::json!({ "outcome": recorded.label() })),
            )
                .into_response()
        }
        Err(_) => {
            metrics::counter!(DELIVERIES, "outcome" => "storage").increment(1);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": "storage" })),
            )
                .into_response()
        }
    }
}

fn refuse(why: WebhookError) -> Response {
    let (status, code) = match why {
        WebhookError::MissingSignature => (StatusCode::BAD_REQUEST, "missing_signature"),
        WebhookError::MalformedSignature => (StatusCode::BAD_REQUEST, "malformed_signature"),
        WebhookError::BadSignature => (StatusCode::BAD_REQUEST, "bad_signature"),
        WebhookError::Stale => (StatusCode::BAD_REQUEST, "stale_timestamp"),
        WebhookError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed_event"),
        WebhookError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
    };
    tracing::warn!(reason = %why, "refused a webhook delivery");
    metrics::counter!(DELIVERIES, "outcome" => code).increment(1);
    (status, Json(serde_json::json!({ "error": code }))).into_response()
}
