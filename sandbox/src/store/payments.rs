//! The store's payments: recorded with the invoice marked paid, the
//! idempotency key's answer and the event that reports it, all in one
//! transaction; read back for the stats, the partner API and repeats.

use sqlx::Row;

use super::{events, Store, StoreError};
use crate::clock::UnixSeconds;
use crate::records::{IdempotencyRecord, IdempotentReply, NewEvent, NewPayment, StoredPayment};

impl Store {
    /// Records a payment of `invoice_id`, marks the invoice paid, and keeps
    /// `reply` as the answer to any repeat of `key` — all or nothing.
    pub async fn record_payment(
        &self,
        payment: &NewPayment<'_>,
        key: &IdempotencyRecord<'_>,
        event: &NewEvent,
        deliver_until: UnixSeconds,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO payments (id, invoice_id, payment_method_id, amount, currency, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(payment.id)
        .bind(payment.invoice_id)
        .bind(payment.payment_method_id)
        .bind(payment.amount)
        .bind(payment.currency)
        .bind(payment.created_at as i64)
        .execute(&mut *tx)
        .await?;
        let updated =
            sqlx::query("UPDATE invoices SET status = 'paid' WHERE id = ? AND status = 'open'")
                .bind(payment.invoice_id)
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() != 1 {
            // Checked by the caller under the write lock; this is the backstop.
            return Err(sqlx::Error::Protocol("the invoice is not open".into()));
        }
        sqlx::query(
            "INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(key.client_id)
        .bind(key.key)
        .bind(key.request_hash.as_slice())
        .bind(i64::from(key.status))
        .bind(key.response)
        .bind(payment.created_at as i64)
        .execute(&mut *tx)
        .await?;
        // In the same transaction: a payment answered is a payment reported.
        events::insert(&mut tx, event, deliver_until).await?;
        tx.commit().await
    }

    /// Every payment held, in the order they were made.
    pub async fn payments(&self) -> Result<Vec<StoredPayment>, StoreError> {
        sqlx::query_as(
            "SELECT id, invoice_id, amount, currency FROM payments ORDER BY created_at, rowid",
        )
        .fetch_all(&self.pool)
        .await
    }

    /// The payment that settled `invoice_id`, if one did.
    pub async fn payment_of(&self, invoice_id: &str) -> Result<Option<StoredPayment>, StoreError> {
        sqlx::query_as("SELECT id, invoice_id, amount, currency FROM payments WHERE invoice_id = ?")
            .bind(invoice_id)
            .fetch_optional(&self.pool)
            .await
    }

    #[cfg(test)]
    pub async fn payment_count(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM payments")
            .fetch_one(&self.pool)
            .await
    }

    pub async fn idempotent_reply(
        &self,
        client_id: &str,
        key: &str,
    ) -> Result<Option<IdempotentReply>, StoreError> {
        let row = sqlx::query("SELECT request_hash, status, response FROM idempotency_keys WHERE client_id = ? AND key = ?")
            .bind(client_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let hash: Vec<u8> = row.try_get("request_hash")?;
            Ok(IdempotentReply {
                request_hash: hash.try_into().unwrap_or([0; 32]),
                status: row.try_get::<i64, _>("status")? as u16,
                response: row.try_get("response")?,
            })
        })
        .transpose()
    }
}
