//! What was paid, as the vendor says it: from the signed event at the
//! webhook endpoint, or from the reconcile after Pay, recorded once per
//! invoice. Here in memory; in your app, a table with a unique constraint
//! on the invoice (and one on the event id), written in the same
//! transaction as what the payment changes, before the endpoint answers 2xx.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use alternative_client::webhook::{self, Payload, Payment, WebhookSecrets};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// The payments recorded, by invoice, and the events already seen.
#[derive(Debug, Default)]
pub struct Payments {
    by_invoice: Mutex<HashMap<String, Payment>>,
    events: Mutex<HashSet<String>>,
}

impl Payments {
    /// Records `payment` for its invoice unless one is recorded already,
    /// and answers the id of the payment recorded for it. Your app: compare
    /// its amount and currency with the invoice's before calling it paid.
    pub fn record(&self, payment: Payment) -> String {
        let mut by_invoice = self.by_invoice.lock().expect("not poisoned");
        let recorded = by_invoice
            .entry(payment.invoice_id.clone())
            .or_insert(payment);
        recorded.payment_id.clone()
    }
}

/// What the webhook endpoint needs: the secrets the vendor signs with, and
/// where to record.
#[derive(Clone)]
pub struct Endpoint {
    pub secrets: Arc<WebhookSecrets>,
    pub payments: Arc<Payments>,
}

/// `POST /webhooks/alternative`: the vendor's events. The raw body is
/// verified (signature, timestamp) before anything in it is believed; a
/// genuine event is recorded once by its id, then answered 200, so a crash
/// before that means a redelivery, never a loss. A refusal is 400 with
/// nothing in it; unknown event types are acknowledged and ignored (or the
/// vendor retries them for days).
pub async fn receive(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = SystemTime::now();
    let event = match webhook::verify_event(
        &endpoint.secrets,
        signature,
        &body,
        now,
        webhook::DEFAULT_TOLERANCE,
    ) {
        Ok(event) => event,
        Err(refused) => {
            eprintln!("webhook delivery refused: {refused}");
            return StatusCode::BAD_REQUEST;
        }
    };
    if !endpoint
        .payments
        .events
        .lock()
        .expect("not poisoned")
        .insert(event.id.clone())
    {
        return StatusCode::OK; // a redelivery: changes nothing
    }
    match event.payload {
        Payload::PaymentSucceeded(payment) => {
            endpoint.payments.record(payment);
        }
        // Genuine but unreadable: keep it for a person; retrying cannot mend it.
        Payload::Malformed(why) => eprintln!("event {} is malformed: {why}", event.id),
        Payload::Unknown => {}
    }
    StatusCode::OK
}
