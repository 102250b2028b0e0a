//! The merchant's SQLite database: users, invoices and sessions.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, SqliteConnection, SqlitePool};

use crate::users::hash_password;

pub type DbError = sqlx::Error;

/// The merchant's database: a pool of connections to it.
pub struct Database {
    pool: SqlitePool,
    /// For an in-memory database: a connection held open as long as this
    /// value lives. Such a database lasts only while a connection to it is
    /// open, and the pool may close and replace its connection (after a
    /// cancelled request, say) — without this, that would start an empty one.
    _keep_alive: Option<std::sync::Mutex<SqliteConnection>>,
}

impl Database {
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Opens (creating and migrating if need be) the database at `url`, with
/// the demo users and invoices (README) seeded into one that has no user:
/// for the sandbox environment and the tests, never for real money.
pub async fn open_with_demo(url: &str) -> Result<Database, DbError> {
    let database = open(url).await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&database.pool)
        .await?;
    if users == 0 {
        seed_demo(&database.pool).await?;
    }
    Ok(database)
}

/// Opens (creating and migrating if need be) the database at `url`; an empty
/// one stays empty. `sqlite::memory:` gives a private in-memory database,
/// gone when the `Database` is dropped.
pub async fn open(url: &str) -> Result<Database, DbError> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = if memory {
        // Named and shared, so every connection of this database (and only
        // of this one) sees the same data.
        let name: u64 = rand::random();
        SqliteConnectOptions::from_str(&format!(
            "sqlite:file:merchant-{name:016x}?mode=memory&cache=shared"
        ))?
    } else {
        SqliteConnectOptions::from_str(url)?
    };
    if let Some(dir) = options.get_filename().parent().filter(|_| !memory) {
        std::fs::create_dir_all(dir)?;
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(if memory {
            SqliteJournalMode::Memory
        } else {
            SqliteJournalMode::Wal
        })
        .busy_timeout(Duration::from_secs(5));
    let keep_alive = if memory {
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
    Ok(Database {
        pool,
        _keep_alive: keep_alive,
    })
}

/// The documented demo users (README) and their invoices, matching the
/// vendor sandbox's seed.
async fn seed_demo(pool: &SqlitePool) -> Result<(), DbError> {
    tracing::info!("seeding the merchant's demo users and invoices");
    let mut tx = pool.begin().await?;
    for (email, password, customer_id, name) in [
        (
            "alice@example.com",
            "alice-demo-password",
            "cus_acme",
            "Alice (Acme Corp)",
        ),
        (
            "bob@example.com",
            "bob-demo-password",
            "cus_globex",
            "Bob (Globex Corporation)",
        ),
    ] {
        sqlx::query(
            "INSERT INTO users (email, password_hash, customer_id, name) VALUES (?, ?, ?, ?)",
        )
        .bind(email)
        .bind(hash_password(password))
        .bind(customer_id)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    for (id, customer_id, number, currency, total) in [
        ("inv_1001", "cus_acme", "INV-1001", "USD", "1250.00"),
        ("inv_1002", "cus_acme", "INV-1002", "USD", "310.40"),
        ("inv_2001", "cus_globex", "INV-2001", "EUR", "89.99"),
    ] {
        sqlx::query(
            "INSERT INTO invoices (id, customer_id, invoice_number, currency, total) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(number)
        .bind(currency)
        .bind(total)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn user_count(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_in_memory_database_outlives_its_pool_connection() {
        let db = open_with_demo("sqlite::memory:").await.unwrap();
        // The pool's one connection goes away (as after a cancelled query);
        // the next one must find the same database, not an empty one.
        db.pool().acquire().await.unwrap().close().await.unwrap();
        assert_eq!(user_count(db.pool()).await, 2);
    }

    #[tokio::test]
    async fn two_in_memory_databases_are_two_databases() {
        let first = open_with_demo("sqlite::memory:").await.unwrap();
        let second = open_with_demo("sqlite::memory:").await.unwrap();
        sqlx::query("DELETE FROM users WHERE email = 'bob@example.com'")
            .execute(first.pool())
            .await
            .unwrap();
        assert_eq!(user_count(first.pool()).await, 1);
        assert_eq!(user_count(second.pool()).await, 2);
    }

    #[tokio::test]
    async fn an_empty_database_stays_empty_unless_the_demo_is_asked_for() {
        let db = open("sqlite::memory:").await.unwrap();
        assert_eq!(user_count(db.pool()).await, 0);
        let invoices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invoices")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(invoices, 0);
    }
}
