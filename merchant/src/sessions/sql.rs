//! Session rows in the merchant's database, SQLite or PostgreSQL (`sessions`, migration 0002).

use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyPool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, Error};

use super::SessionRows;

#[derive(Debug, Clone)]
pub struct SqlSessions {
    pool: AnyPool,
}

impl SqlSessions {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Deletes the expired rows (they are refused anyway); returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(millis(OffsetDateTime::now_utc()))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// How many sessions are live (not expired): logged-in users, since a
    /// session is stored only once it holds one.
    pub async fn count_live(&self) -> Result<u64, sqlx::Error> {
        let (live,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE expires_at > $1")
            .bind(millis(OffsetDateTime::now_utc()))
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(live).unwrap_or(0))
    }

    /// Deletes the sessions of user `user_id` (whose data names them under
    /// [`super::USER_KEY`]); returns how many. It reads every row: for
    /// `server users remove`, not for a request. (The data is JSON text,
    /// read the same way on SQLite and PostgreSQL.)
    pub async fn delete_of_user(&self, user_id: i64) -> Result<u64, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, data FROM sessions")
            .fetch_all(&self.pool)
            .await?;
        let mut deleted = 0;
        for (id, data) in rows {
            let names_user = serde_json::from_str::<serde_json::Value>(&data)
                .is_ok_and(|data| data[super::USER_KEY]["id"].as_i64() == Some(user_id));
            if names_user {
                let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                deleted += done.rows_affected();
            }
        }
        Ok(deleted)
    }

    /// Deletes the expired rows every `period`, for as long as the task runs.
    pub async fn delete_expired_every(self, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            if let Err(error) = self.delete_expired().await {
                tracing::warn!(%error, "could not delete expired sessions");
            }
        }
    }
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn backend(error: sqlx::Error) -> Error {
    Error::Backend(error.to_string())
}

fn data(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionRows for SqlSessions {
    async fn insert(&self, record: &Record) -> session_store::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.id.to_string())
        .bind(data(record)?)
        .bind(millis(record.expiry_date))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update(&self, record: &Record) -> session_store::Result<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET data = $1, expires_at = $2 WHERE id = $3 AND expires_at > $4",
        )
        .bind(data(record)?)
        .bind(millis(record.expiry_date))
        .bind(record.id.to_string())
        .bind(millis(OffsetDateTime::now_utc()))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id.to_string())
        .bind(millis(OffsetDateTime::now_utc()))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at) * 1_000_000)
                .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            id: Id::default(),
            data: [("user".to_owned(), serde_json::json!(1))].into(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(8),
        }
    }

    async fn rows() -> (crate::db::Database, SqlSessions) {
        let db = crate::db::open_with_demo(&crate::db::scratch_url().await)
            .await
            .unwrap();
        let rows = SqlSessions::new(db.pool().clone());
        (db, rows)
    }

    #[tokio::test]
    async fn a_saved_session_is_loaded_as_it_was_to_the_millisecond() {
        let (_db, rows) = rows().await;
        let mut record = record();
        record.expiry_date = record.expiry_date.replace_nanosecond(123_000_000).unwrap();
        assert!(rows.insert(&record).await.unwrap());
        assert_eq!(rows.load(&record.id).await.unwrap(), Some(record));
    }

    #[tokio::test]
    async fn an_update_never_brings_back_a_deleted_session() {
        let (_db, rows) = rows().await;
        let record = record();
        rows.insert(&record).await.unwrap();
        rows.delete(&record.id).await.unwrap();
        assert!(!rows.update(&record).await.unwrap());
        assert_eq!(rows.load(&record.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_update_never_extends_an_expired_session() {
        let (_db, rows) = rows().await;
        let mut record = record();
        record.expiry_date = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        rows.insert(&record).await.unwrap();
        assert_eq!(rows.load(&record.id).await.unwrap(), None);
        record.expiry_date += time::Duration::hours(8);
        assert!(!rows.update(&record).await.unwrap());
        assert_eq!(rows.delete_expired().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_users_sessions_are_deleted_and_no_one_elses() {
        let (_db, rows) = rows().await;
        let named = |user: serde_json::Value| Record {
            data: [(super::super::USER_KEY.to_owned(), user)].into(),
            ..record()
        };
        let theirs = [
            named(serde_json::json!({"id": 3, "email": "carol@example.com"})),
            named(serde_json::json!({"id": 3, "email": "carol@example.com"})),
        ];
        let others = [
            named(serde_json::json!({"id": 33, "email": "dan@example.com"})),
            record(),
        ];
        for record in theirs.iter().chain(&others) {
            rows.insert(record).await.unwrap();
        }
        assert_eq!(rows.delete_of_user(3).await.unwrap(), 2);
        for record in &theirs {
            assert_eq!(rows.load(&record.id).await.unwrap(), None);
        }
        for record in &others {
            assert!(rows.load(&record.id).await.unwrap().is_some());
        }
    }

    #[tokio::test]
    async fn a_taken_id_is_not_inserted_twice() {
        let (_db, rows) = rows().await;
        let record = record();
        assert!(rows.insert(&record).await.unwrap());
        assert!(!rows.insert(&record).await.unwrap());
    }
}
