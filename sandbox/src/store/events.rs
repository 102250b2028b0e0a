//! The store's events table: written with the payment it reports (see
//! `Store::record_payment`), read and updated by the delivery task and the
//! partner API.

use sqlx::{Sqlite, Transaction};

use super::{Store, StoreError};
use crate::clock::UnixSeconds;
use crate::events::{NewEvent, StoredEvent};

const COLUMNS: &str = "id, type, body, created_at, status, attempts, deliver_until, last_error";

/// Writes `event` in `tx`, due for delivery at once and until `deliver_until`.
pub(super) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    event: &NewEvent,
    deliver_until: UnixSeconds,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (id, partner_id, type, body, created_at, status, next_attempt_at, deliver_until) \
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
    )
    .bind(&event.id)
    .bind(&event.partner_id)
    .bind(event.kind)
    .bind(&event.body)
    .bind(event.created_at as i64)
    .bind(event.created_at as i64)
    .bind(deliver_until as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Pending events whose next attempt is due at `now`, oldest first.
    pub async fn due_events(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE status = 'pending' AND next_attempt_at <= ? \
             ORDER BY created_at, rowid LIMIT ?"
        ))
        .bind(now as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn event_delivered(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE events SET status = 'delivered', attempts = attempts + 1, last_error = NULL WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    pub async fn event_retry(
        &self,
        id: &str,
        next_attempt_at: UnixSeconds,
        problem: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE events SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'")
            .bind(next_attempt_at as i64)
            .bind(problem)
            .bind(id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    pub async fn event_failed(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE events SET status = 'failed' WHERE id = ? AND status = 'pending'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// `partner_id`'s newest events, optionally only those in `status`.
    pub async fn events_of(
        &self,
        partner_id: &str,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE partner_id = ? AND (? IS NULL OR status = ?) \
             ORDER BY created_at DESC, rowid DESC LIMIT ?"
        ))
        .bind(partner_id)
        .bind(status)
        .bind(status)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Puts `partner_id`'s event `id` back in the queue, due now and until
    /// `deliver_until`, whatever its state; `None` if it has no such event.
    pub async fn resend_event(
        &self,
        partner_id: &str,
        id: &str,
        now: UnixSeconds,
        deliver_until: UnixSeconds,
    ) -> Result<Option<StoredEvent>, StoreError> {
        sqlx::query_as(&format!(
            "UPDATE events SET status = 'pending', next_attempt_at = ?, deliver_until = ? \
             WHERE id = ? AND partner_id = ? RETURNING {COLUMNS}"
        ))
        .bind(now as i64)
        .bind(deliver_until as i64)
        .bind(id)
        .bind(partner_id)
        .fetch_optional(&self.pool)
        .await
    }
}
