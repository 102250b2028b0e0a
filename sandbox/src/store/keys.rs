//! The store's signing keys: the current one, the retired ones the JWKS
//! still publishes, a rotation, and forgetting the long retired.

use sqlx::Row;

use super::{Store, StoreError};
use crate::clock::UnixSeconds;
use crate::keys::StoredKey;

impl Store {
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, seed, created_at, retired_at FROM signing_keys ORDER BY created_at, rowid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let seed: Vec<u8> = row.try_get("seed")?;
                Ok(StoredKey {
                    kid: row.try_get("kid")?,
                    seed: seed.try_into().map_err(|_| {
                        sqlx::Error::Decode("a signing key seed is not 32 bytes".into())
                    })?,
                    created_at: row.try_get::<i64, _>("created_at")?.max(0) as u64,
                    retired_at: row
                        .try_get::<Option<i64>, _>("retired_at")?
                        .map(|t| t.max(0) as u64),
                })
            })
            .collect()
    }

    /// Stores `key` as the signing key, retiring the current one at `now`.
    pub async fn save_rotation(&self, key: &StoredKey, now: UnixSeconds) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL")
            .bind(now as i64)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO signing_keys (kid, seed, created_at) VALUES (?, ?, ?)")
            .bind(&key.kid)
            .bind(key.seed.as_slice())
            .bind(key.created_at as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn forget_keys_retired_before(&self, cutoff: UnixSeconds) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?")
            .bind(cutoff as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
