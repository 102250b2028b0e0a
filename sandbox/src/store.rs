//! The sandbox's records in SQLite: API clients, customers, invoices,
//! payment methods, payments, idempotency keys, OAuth grants, signing keys
//! and events (their types are in `records`, `keys` and `events`: this
//! module only keeps them). Opening, seeding, clients, customers, invoices
//! and grants are here; the signing keys' queries in `store/keys.rs`, the
//! payments' (with their idempotency keys) in `store/payments.rs`, the
//! events' in `store/events.rs`.
//!
//! SQLite has one writer at a time; writes that must read-then-write
//! atomically (a payment) also take [`Store::write_lock`], so concurrent
//! requests queue here rather than fail with `SQLITE_BUSY`.

use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use subtle::ConstantTimeEq;

mod events;
mod keys;
mod payments;

use crate::clock::UnixSeconds;
use crate::ids::random_id;
use crate::records::{ApiClient, Customer, Invoice, OAuthGrant, PaymentMethod};
use crate::seed::Seed;

pub type StoreError = sqlx::Error;

pub struct Store {
    pool: SqlitePool,
    writes: tokio::sync::Mutex<()>,
    /// For an in-memory database: a connection held open for the store's
    /// life. The database lives only while a connection to it is open, and
    /// the pool may close and replace its connection (after a cancelled
    /// request, say) — without this, that would start an empty database.
    _keep_alive: Option<std::sync::Mutex<sqlx::SqliteConnection>>,
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compared against when the client id is unknown, so that an unknown client
/// and a wrong secret take the same work and cannot be told apart by timing.
const NO_SUCH_CLIENT: [u8; 32] = [0; 32];

impl Store {
    /// Opens (creating if need be) the database at `url` and migrates it.
    /// `sqlite::memory:` gives a private in-memory database for tests.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = if memory {
            // Named and shared, so every connection of this store (and only
            // of this store) sees the same in-memory database.
            let name = random_id("sandbox-", 12);
            SqliteConnectOptions::from_str(&format!("sqlite:file:{name}?mode=memory&cache=shared"))?
        } else {
            SqliteConnectOptions::from_str(url)?
        };
        if let Some(dir) = options.get_filename().parent().filter(|_| !memory) {
            std::fs::create_dir_all(dir)?;
        }
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets readers go on while the one writer writes.
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .busy_timeout(Duration::from_secs(5));
        let keep_alive = if memory {
            use sqlx::ConnectOptions;
            Some(std::sync::Mutex::new(options.connect().await?))
        } else {
            None
        };
        let pool = SqlitePoolOptions::new()
            // A shared in-memory database locks whole tables: one connection.
            .max_connections(if memory { 1 } else { 8 })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            writes: tokio::sync::Mutex::new(()),
            _keep_alive: keep_alive,
        })
    }

    pub async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    #[cfg(test)]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A transaction that takes SQLite's write lock at once, so one that reads
    /// before it writes cannot fail halfway when another writer got in between.
    pub async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM partners")
            .fetch_one(&self.pool)
            .await?;
        Ok(count == 0)
    }

    /// Replaces every record with `seed`. Signing keys are kept, so tokens
    /// already issued still verify (and are then refused for what they name).
    pub async fn reset(&self, seed: &Seed) -> Result<(), StoreError> {
        let _write = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        for table in [
            "events",
            "idempotency_keys",
            "payments",
            "oauth_grants",
            "payment_methods",
            "invoices",
            "customers",
            "api_clients",
            "partners",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        for p in &seed.partners {
            sqlx::query("INSERT INTO partners (id) VALUES (?)")
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
        }
        for c in &seed.clients {
            sqlx::query(
                "INSERT INTO api_clients (client_id, partner_id, secret_sha256) VALUES (?, ?, ?)",
            )
            .bind(&c.client_id)
            .bind(&c.partner_id)
            .bind(sha256(c.client_secret.as_bytes()).as_slice())
            .execute(&mut *tx)
            .await?;
        }
        for c in &seed.customers {
            sqlx::query("INSERT INTO customers (id, partner_id, name) VALUES (?, ?, ?)")
                .bind(&c.id)
                .bind(&c.partner_id)
                .bind(&c.name)
                .execute(&mut *tx)
                .await?;
        }
        for i in &seed.invoices {
            sqlx::query(
                "INSERT INTO invoices (id, partner_id, customer_id, invoice_number, currency, \
                 sub_total, total, status, created_at, due_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&i.id)
            .bind(&i.partner_id)
            .bind(&i.customer_id)
            .bind(&i.invoice_number)
            .bind(&i.currency)
            .bind(&i.sub_total)
            .bind(&i.total)
            .bind(&i.status)
            .bind(&i.created_at)
            .bind(&i.due_date)
            .execute(&mut *tx)
            .await?;
        }
        for m in &seed.payment_methods {
            sqlx::query(
                "INSERT INTO payment_methods (id, customer_id, kind, brand, last4, exp_month, exp_year) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&m.id)
            .bind(&m.customer_id)
            .bind(&m.kind)
            .bind(&m.brand)
            .bind(&m.last4)
            .bind(m.exp_month)
            .bind(m.exp_year)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// The client these credentials belong to, if they are right. Hashing and
    /// comparing happen whether or not the client exists, in constant time.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<ApiClient>, StoreError> {
        let row =
            sqlx::query("SELECT partner_id, secret_sha256 FROM api_clients WHERE client_id = ?")
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        let (partner_id, expected) = match &row {
            Some(row) => (
                Some(row.try_get::<String, _>("partner_id")?),
                row.try_get::<Vec<u8>, _>("secret_sha256")?,
            ),
            None => (None, NO_SUCH_CLIENT.to_vec()),
        };
        let matches: bool = sha256(secret.as_bytes()).as_slice().ct_eq(&expected).into();
        Ok(partner_id.filter(|_| matches).map(|partner_id| ApiClient {
            client_id: client_id.to_owned(),
            partner_id,
        }))
    }

    pub async fn customer(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        sqlx::query_as("SELECT partner_id, name FROM customers WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn invoice(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        sqlx::query_as("SELECT * FROM invoices WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn payment_methods(
        &self,
        customer_id: &str,
    ) -> Result<Vec<PaymentMethod>, StoreError> {
        sqlx::query_as(
            "SELECT id, customer_id, kind, brand, last4, exp_month, exp_year \
             FROM payment_methods WHERE customer_id = ? ORDER BY id",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn payment_method(&self, id: &str) -> Result<Option<PaymentMethod>, StoreError> {
        sqlx::query_as(
            "SELECT id, customer_id, kind, brand, last4, exp_month, exp_year \
             FROM payment_methods WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn record_grant(
        &self,
        token: &str,
        grant: &OAuthGrant,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        // Expired grants are dropped as new ones arrive: the table holds
        // about as many rows as there are live tokens.
        sqlx::query("DELETE FROM oauth_grants WHERE expires_at <= ?")
            .bind(now as i64)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO oauth_grants (token_sha256, client_id, partner_id, expires_at) VALUES (?, ?, ?, ?)")
            .bind(sha256(token.as_bytes()).as_slice())
            .bind(&grant.client_id)
            .bind(&grant.partner_id)
            .bind(grant.expires_at as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn grant(&self, token: &str) -> Result<Option<OAuthGrant>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, partner_id, expires_at FROM oauth_grants WHERE token_sha256 = ?",
        )
        .bind(sha256(token.as_bytes()).as_slice())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(OAuthGrant {
                client_id: row.try_get("client_id")?,
                partner_id: row.try_get("partner_id")?,
                expires_at: row.try_get::<i64, _>("expires_at")?.max(0) as u64,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests;
