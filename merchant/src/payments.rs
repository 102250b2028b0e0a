//! The merchant's record of what was paid, from the vendor's word: its
//! signed events (verified by `alternative_client::webhook` before they get
//! here) and its invoice read after a Pay (`CheckoutService::reconcile`).
//! Both end in one row per invoice; each event id is recorded once, so a
//! repeated delivery is acknowledged and changes nothing.

use alternative_client::webhook::{Event, Payload, Payment};
use sqlx::{Any, Transaction};

use crate::records::Records;

type DbError = sqlx::Error;

/// What recording a payment (or an event) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The invoice is now recorded as paid by this payment.
    Paid,
    /// It already was, by this same payment: nothing changed.
    AlreadyRecorded,
    /// This event id was recorded before: nothing changed.
    DuplicateEvent,
    /// No invoice of the merchant's has this id: kept, logged, not paid.
    UnknownInvoice,
    /// Another payment already holds this invoice: kept, logged loudly.
    Conflict,
    /// An event type this merchant does not act on: kept.
    Ignored,
}

impl Recorded {
    pub fn label(self) -> &'static str {
        match self {
            Self::Paid => "recorded",
            Self::AlreadyRecorded => "already_recorded",
            Self::DuplicateEvent => "duplicate_event",
            Self::UnknownInvoice => "unknown_invoice",
            Self::Conflict => "conflict",
            Self::Ignored => "ignored",
        }
    }
}

/// Where the merchant first learnt of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Event,
    Reconcile,
}

impl Records {
    /// Records a verified `event` (its raw `body` kept) and what it says,
    /// in one transaction: either both are stored or neither, so a crash
    /// between them is redelivered, not half-done.
    pub async fn record_event(
        &self,
        event: &Event,
        body: &str,
        now: u64,
    ) -> Result<Recorded, DbError> {
        let mut tx = self.pool.begin().await?;
        let invoice_id = match &event.payload {
            Payload::PaymentSucceeded(payment) => Some(payment.invoice_id.as_str()),
            Payload::Unknown => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO vendor_events (id, type, invoice_id, body, received_at, outcome) \
             VALUES ($1, $2, $3, $4, $5, '') ON CONFLICT (id) DO NOTHING",
        )
        .bind(&event.id)
        .bind(&event.kind)
        .bind(invoice_id)
        .bind(body)
        .bind(now as i64)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Recorded::DuplicateEvent);
        }
        let recorded = match &event.payload {
            Payload::PaymentSucceeded(payment) => {
                record_in(&mut tx, payment, Source::Event, now).await?
            }
            Payload::Unknown => Recorded::Ignored,
        };
        sqlx::query("UPDATE vendor_events SET outcome = $1 WHERE id = $2")
            .bind(recorded.label())
            .bind(&event.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Records `payment`, read from the vendor (not from an event).
    pub async fn record_payment(&self, payment: &Payment, now: u64) -> Result<Recorded, DbError> {
        let mut tx = self.pool.begin().await?;
        let recorded = record_in(&mut tx, payment, Source::Reconcile, now).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Forgets every recorded payment and event: for the sandbox
    /// environment's demo, when the vendor sandbox is reset to its seed
    /// (its invoices open again). Never for real money.
    pub async fn forget_payments(&self) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM payments")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM vendor_events")
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The id of the payment that settled `invoice_id`, if one is recorded.
    pub async fn paid_by(&self, invoice_id: &str) -> Result<Option<String>, DbError> {
        sqlx::query_scalar("SELECT payment_id FROM payments WHERE invoice_id = $1")
            .bind(invoice_id)
            .fetch_optional(&self.pool)
            .await
    }
}

async fn record_in(
    tx: &mut Transaction<'static, Any>,
    payment: &Payment,
    source: Source,
    now: u64,
) -> Result<Recorded, DbError> {
    let invoice: Option<(String, String)> =
        sqlx::query_as("SELECT total, currency FROM invoices WHERE id = $1")
            .bind(&payment.invoice_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((total, currency)) = invoice else {
        tracing::warn!(payment = %payment.payment_id, invoice_id = ?payment.invoice_id, "a payment for an invoice the merchant does not have");
        return Ok(Recorded::UnknownInvoice);
    };
    if !same_amount(&total, &payment.amount) || currency != payment.currency {
        // Paid is paid: the vendor took the money. Recorded, and said.
        tracing::warn!(payment = %payment.payment_id, invoice_id = %payment.invoice_id, "a payment whose amount differs from the invoice's");
    }
    let inserted = sqlx::query(
        "INSERT INTO payments (invoice_id, payment_id, amount, currency, recorded_at, source) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&payment.invoice_id)
    .bind(&payment.payment_id)
    .bind(&payment.amount)
    .bind(&payment.currency)
    .bind(now as i64)
    .bind(match source {
        Source::Event => "event",
        Source::Reconcile => "reconcile",
    })
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 1 {
        tracing::info!(payment = %payment.payment_id, invoice_id = %payment.invoice_id, ?source, "invoice recorded as paid");
        return Ok(Recorded::Paid);
    }
    let holder: Option<String> =
        sqlx::query_scalar("SELECT payment_id FROM payments WHERE invoice_id = $1")
            .bind(&payment.invoice_id)
            .fetch_optional(&mut **tx)
            .await?;
    if holder.as_deref() == Some(payment.payment_id.as_str()) {
        Ok(Recorded::AlreadyRecorded)
    } else {
        tracing::error!(payment = %payment.payment_id, held_by = ?holder, invoice_id = %payment.invoice_id, "two payments for one invoice: needs a person");
        Ok(Recorded::Conflict)
    }
}

/// "12.5" and "12.50" are one amount.
fn same_amount(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let (units, cents) = s.split_once('.').unwrap_or((s, ""));
        format!("{units}.{cents:0<2}")
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests;
