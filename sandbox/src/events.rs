//! Events: what the vendor tells a partner's server happened (a payment),
//! written with what they report, signed (`signing`) and delivered at least
//! once to the partner's webhook endpoint (`delivery`); listed and resent
//! through the partner API (`GET /v1/events` in `listing`,
//! `POST /v1/events/{id}/resend`).

mod delivery;
pub(crate) mod listing;
mod signing;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::callers::OAuthClient;
use crate::clock::UnixSeconds;
use crate::error::ApiError;
use crate::ids::{random_id, well_formed};
use crate::records::{Invoice, NewEvent, StoredEvent};
use crate::state::Sandbox;

pub use crate::webhook_endpoint::{Webhook, WebhookSecret};
#[cfg(test)]
pub(crate) use delivery::deliver_due;
pub(crate) use delivery::run;
pub(crate) use listing::list;
pub use signing::{signature_header, SIGNATURE_HEADER};

/// The one type of event the sandbox makes: an invoice was paid.
pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";

/// The delivered body: `{id, type, created_at, data}`, as the big vendors
/// shape theirs; `data` holds the objects the event is about.
#[derive(Serialize)]
struct Body<'a, D: Serialize> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: String,
    data: D,
}

/// `payment.succeeded`'s `data`: the payment, and the invoice it settled.
#[derive(Serialize)]
struct PaymentData<'a, P: Serialize> {
    payment: &'a P,
    invoice: InvoiceData<'a>,
}

#[derive(Serialize)]
struct InvoiceData<'a> {
    id: &'a str,
    customer_id: &'a str,
    invoice_number: &'a str,
    status: &'static str,
    total: &'a str,
    currency: &'a str,
}

/// The event for `payment` (its API view) settling `invoice`, at `now`.
pub fn payment_succeeded(
    invoice: &Invoice,
    payment: &impl Serialize,
    now: UnixSeconds,
) -> NewEvent {
    let id = random_id("evt_", 12);
    let body = Body {
        id: &id,
        kind: PAYMENT_SUCCEEDED,
        created_at: rfc3339(now),
        data: PaymentData {
            payment,
            invoice: InvoiceData {
                id: &invoice.id,
                customer_id: &invoice.customer_id,
                invoice_number: &invoice.invoice_number,
                status: "paid",
                total: &invoice.total,
                currency: &invoice.currency,
            },
        },
    };
    let body = serde_json::to_string(&body).expect("an event serializes");
    NewEvent {
        id,
        partner_id: invoice.partner_id.clone(),
        kind: PAYMENT_SUCCEEDED,
        body,
        created_at: now,
    }
}

pub(crate) fn rfc3339(at: UnixSeconds) -> String {
    OffsetDateTime::from_unix_timestamp(at as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An event as the list shows it: the delivered body, and its delivery.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created_at: String,
    /// `pending` (delivery under way or due), `delivered` (a 2xx came back)
    /// or `failed` (given up; resend it).
    delivery_status: String,
    /// Attempts made so far.
    attempts: i64,
    /// The last failed attempt's outcome, e.g. "HTTP 500" or "timed out".
    last_error: Option<String>,
    /// The body that is delivered, exactly.
    #[schema(value_type = Object)]
    event: serde_json::Value,
}

impl From<StoredEvent> for EventView {
    fn from(e: StoredEvent) -> Self {
        Self {
            event: serde_json::from_str(&e.body).unwrap_or_default(),
            created_at: rfc3339(e.created_at as u64),
            id: e.id,
            kind: e.kind,
            delivery_status: e.status,
            attempts: e.attempts,
            last_error: e.last_error,
        }
    }
}

/// Whether to hold deliveries back.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    // An `Option` only so that a missing one gets this API's own 400.
    #[schema(value_type = bool, required = true)]
    paused: Option<bool>,
}

/// `POST /sandbox/webhook`: pauses or resumes delivery, for a harness that
/// plays an endpoint the events do not reach (they are stored and wait,
/// and go out on resume); a reset resumes it.
#[utoipa::path(
    post,
    path = "/sandbox/webhook",
    tag = "sandbox",
    params(("X-Sandbox-Control" = String, Header, pattern = "^1$", description = "Must be `1`: a header no HTML form can send")),
    request_body = Delivery,
    responses(
        (status = 204, description = "Delivery is paused or resumed"),
        (status = 400, description = "invalid_request: paused missing or not a boolean", body = crate::error::ApiErrorBody),
        (status = 403, description = "cross_origin_refused (an `Origin` not allowed), control_header_required", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn pause_delivery(
    State(sandbox): State<Sandbox>,
    body: Result<Json<Delivery>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let paused = crate::error::json_body(body)?
        .paused
        .ok_or(ApiError::InvalidRequest("paused must be true or false"))?;
    pause(&sandbox, paused);
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses or resumes delivery, for the control above and for a test's
/// `TestVendor::pause_events`; on resume, what waited goes out at once.
pub(crate) fn pause(sandbox: &Sandbox, paused: bool) {
    sandbox
        .delivery_paused
        .store(paused, std::sync::atomic::Ordering::SeqCst);
    tracing::warn!(paused, "sandbox event delivery switched");
    sandbox.events_due.notify_one();
}

#[utoipa::path(
    post,
    path = "/v1/events/{id}/resend",
    tag = "events",
    params(("id" = String, Path, min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")),
    responses(
        (status = 202, description = "Queued for delivery again, for a fresh retry period", body = EventView),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 404, description = "no such event of this partner", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("oauth_bearer" = [])),
)]
pub async fn resend(
    State(sandbox): State<Sandbox>,
    OAuthClient(grant): OAuthClient,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<EventView>), ApiError> {
    let not_found = ApiError::NotFound("no such event");
    if !well_formed(&id) {
        return Err(not_found);
    }
    let now = sandbox.clock.now();
    let retry_for = sandbox.config.webhook_retry_for.as_secs();
    let event = sandbox
        .store
        .resend_event(&grant.partner_id, &id, now, now + retry_for)
        .await?
        .ok_or(not_found)?;
    sandbox.events_due.notify_one();
    Ok((StatusCode::ACCEPTED, Json(event.into())))
}
