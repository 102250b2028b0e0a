//! The merchant's record of what was paid, from the vendor's word: its
//! events (signed deliveries verified by `alternative_client::webhook`, or
//! read from the vendor's list by the catch-up) and its invoice read
//! (`CheckoutService::reconcile` after a Pay, or after the vendor said
//! "already paid"). All end in one row per invoice; each event id is
//! recorded once, so a repeated delivery is acknowledged and changes
//! nothing. A payment whose amount or currency is not the invoice's is
//! recorded as it is, as a mismatch: the invoice is not paid, nor open.

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
    /// A payment whose amount or currency differs from the invoice's:
    /// recorded with its own, the invoice marked for a person; no token is
    /// minted for it again.
    Mismatch,
    /// A genuine event whose payment is off its documented shape: kept
    /// (its body), logged loudly, nothing recorded from it.
    Malformed,
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
            Self::Mismatch => "mismatch",
            Self::Malformed => "malformed",
            Self::Ignored => "ignored",
        }
    }

    /// Whether the invoice now has a payment recorded that it had not:
    /// its tokens are to be forgotten.
    pub fn settled_now(self) -> bool {
        matches!(self, Self::Paid | Self::Mismatch)
    }
}

/// How an event reached the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Delivered, signed, to the webhook endpoint.
    Webhook,
    /// Found in the vendor's event list by the catch-up.
    CatchUp,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::CatchUp => "catch_up",
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
        via: Via,
    ) -> Result<Recorded, DbError> {
        let mut tx = self.pool.begin().await?;
        let invoice_id = match &event.payload {
            Payload::PaymentSucceeded(payment) => Some(payment.invoice_id.as_str()),
            Payload::Unknown | Payload::Malformed(_) => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO vendor_events (id, type, invoice_id, body, received_at, outcome, via) \
             VALUES ($1, $2, $3, $4, $5, '', $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&event.id)
        .bind(&event.kind)
        .bind(invoice_id)
        .bind(body)
        .bind(now as i64)
        .bind(via.label())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Recorded::DuplicateEvent);
        }
        let recorded = match &event.payload {
            Payload::PaymentSucceeded(payment) => {
                record_in(&mut tx, payment, Source::Event, now).await?
            }
            Payload::Malformed(problem) => {
                tracing::error!(event = %event.id, problem, "a genuine payment event the merchant cannot read: kept for a person, nothing recorded");
                Recorded::Malformed
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

    /// Forgets every recorded payment and event, and the catch-up's place
    /// in the vendor's list: for the sandbox environment's demo, when the
    /// vendor sandbox is reset to its seed (its invoices open again, its
    /// events gone). Never for real money.
    pub async fn forget_payments(&self) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for table in ["payments", "vendor_events", "event_cursor"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// The last event of the vendor's list the catch-up recorded.
    pub async fn event_cursor(&self) -> Result<Option<String>, DbError> {
        sqlx::query_scalar("SELECT last_event_id FROM event_cursor WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
    }

    /// Moves the catch-up's place to `event_id` (every event up to it is
    /// recorded), or back to the start (`None`).
    pub async fn set_event_cursor(&self, event_id: Option<&str>, now: u64) -> Result<(), DbError> {
        let Some(event_id) = event_id else {
            return sqlx::query("DELETE FROM event_cursor")
                .execute(&self.pool)
                .await
                .map(drop);
        };
        sqlx::query(
            "INSERT INTO event_cursor (id, last_event_id, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET last_event_id = excluded.last_event_id, \
             updated_at = excluded.updated_at",
        )
        .bind(event_id)
        .bind(now as i64)
        .execute(&self.pool)
        .await
        .map(drop)
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
    // The vendor took this money, so it is recorded, as it is; but an
    // invoice is paid only by its own amount in its own currency.
    let matches = payment.pays(&total, &currency);
    let inserted = sqlx::query(
        "INSERT INTO payments (invoice_id, payment_id, amount, currency, recorded_at, source, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
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
    .bind(if matches { "paid" } else { "mismatch" })
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 1 && matches {
        tracing::info!(payment = %payment.payment_id, invoice_id = %payment.invoice_id, ?source, "invoice recorded as paid");
        return Ok(Recorded::Paid);
    }
    if inserted.rows_affected() == 1 {
        tracing::error!(
            payment = %payment.payment_id,
            invoice_id = %payment.invoice_id,
            paid = %format_args!("{} {}", payment.amount, payment.currency),
            due = %format_args!("{total} {currency}"),
            ?source,
            "a payment that does not match its invoice: recorded as a mismatch, needs a person"
        );
        metrics::counter!(crate::metrics::PAYMENT_MISMATCHES).increment(1);
        return Ok(Recorded::Mismatch);
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

#[cfg(test)]
mod tests;
