//! What was paid, as the vendor says it: from the signed event at the
//! webhook endpoint, or from the reconcile after Pay, recorded once per
//! invoice. Here in memory; in your app, a table with a unique constraint
//! on the invoice (and one on the event id), written in the same
//! transaction as what the payment changes, before the endpoint answers 2xx.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use alternative_client::webhook::{self, Payload, Payment, WebhookSecrets};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::mint::{invoice, Recorded};

/// What was recorded, by invoice, and the events already seen.
#[derive(Debug, Default)]
pub struct Payments {
    by_invoice: Mutex<HashMap<String, Recorded>>,
    events: Mutex<HashSet<String>>,
}

impl Payments {
    /// Records `payment` for its invoice unless something is recorded for
    /// it already, and answers what is. Paid only if the amount and the
    /// currency are the invoice's: a payment of another amount (a vendor's
    /// error, an invoice changed after its token was minted) is kept as a
    /// mismatch for a person, never taken as paid.
    pub fn record(&self, payment: Payment) -> Recorded {
        let mut by_invoice = self.by_invoice.lock().expect("not poisoned");
        let slot = match by_invoice.entry(payment.invoice_id.clone()) {
            Entry::Occupied(kept) => return kept.get().clone(),
            Entry::Vacant(slot) => slot,
        };
        let matches = invoice(&payment.invoice_id)
            .is_some_and(|invoice| payment.pays(invoice.total, invoice.currency));
        let recorded = if matches {
            Recorded::Paid {
                payment_id: payment.payment_id,
            }
        } else {
            eprintln!(
                "payment {} of {} {} does not match invoice {}: recorded as a mismatch",
                payment.payment_id, payment.amount, payment.currency, payment.invoice_id
            );
            Recorded::Mismatch {
                payment_id: payment.payment_id,
            }
        };
        slot.insert(recorded).clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(id: &str, amount: &str, currency: &str) -> Payment {
        Payment {
            payment_id: id.to_owned(),
            invoice_id: "inv_1001".to_owned(),
            amount: amount.to_owned(),
            currency: currency.to_owned(),
        }
    }

    #[test]
    fn a_payment_of_the_invoice_amount_is_paid_and_recorded_once() {
        let payments = Payments::default();
        let paid = Recorded::Paid {
            payment_id: "pay_1".to_owned(),
        };
        assert_eq!(payments.record(payment("pay_1", "1250", "USD")), paid);
        // The event after the reconcile (or the other way round): no change.
        assert_eq!(payments.record(payment("pay_2", "1250.00", "USD")), paid);
    }

    #[test]
    fn another_amount_or_currency_is_a_mismatch_not_paid() {
        for (amount, currency) in [("1250.01", "USD"), ("125.00", "USD"), ("1250.00", "EUR")] {
            let payments = Payments::default();
            assert_eq!(
                payments.record(payment("pay_1", amount, currency)),
                Recorded::Mismatch {
                    payment_id: "pay_1".to_owned()
                },
                "{amount} {currency}"
            );
        }
    }
}
