//! The store's events table: written with the payment it reports (see
//! `Store::record_payment`), read and updated by the delivery task and the
//! partner API.

use sqlx::{Sqlite, Transaction};

use super::{Store, StoreError};
use crate::clock::UnixSeconds;
use crate::records::{NewEvent, StoredEvent};

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

    /// `partner_id`'s events in the order they were recorded, after its event
    /// `after` (from the first without one), optionally only those in
    /// `status`; `None` if it has no event `after`.
    ///
    /// "Recorded" is SQLite's insertion order, the rowid, not `created_at`
    /// (many events share a second). The store has a single writer: SQLite
    /// lets one transaction write at a time, and gives a new row the
    /// largest rowid so far plus one while it holds that lock, so rowid
    /// order is commit order and every snapshot a reader sees holds a
    /// prefix of it. A reader that has seen an event therefore never skips
    /// one committed late with a smaller rowid: there is none. (A database
    /// with concurrent writers and a sequence would not promise this: a
    /// transaction that took id 7 can commit after one that took id 8.)
    /// Only a reset deletes events, and it deletes them all, so a cursor
    /// from before it names no event (404: start over). Nothing here runs
    /// `VACUUM`, which may renumber the rowids of a table without an
    /// `INTEGER PRIMARY KEY` such as this one.
    pub async fn events_in_order(
        &self,
        partner_id: &str,
        status: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Option<Vec<StoredEvent>>, StoreError> {
        // One snapshot for both reads: a reset between them cannot pair an
        // old cursor's rowid with new events.
        let mut tx = self.pool.begin().await?;
        let from: i64 = match after {
            None => 0,
            Some(id) => {
                let rowid =
                    sqlx::query_scalar("SELECT rowid FROM events WHERE id = ? AND partner_id = ?")
                        .bind(id)
                        .bind(partner_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                match rowid {
                    Some(rowid) => rowid,
                    None => return Ok(None),
                }
            }
        };
        let events = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE partner_id = ? AND rowid > ? \
             AND (? IS NULL OR status = ?) ORDER BY rowid LIMIT ?"
        ))
        .bind(partner_id)
        .bind(from)
        .bind(status)
        .bind(status)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(events))
    }

    /// Writes `event` alone, as `Store::record_payment` writes it with the
    /// payment it reports: for tests that need many events.
    #[cfg(test)]
    pub async fn insert_event(&self, event: &NewEvent) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert(&mut tx, event, event.created_at).await?;
        tx.commit().await
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
