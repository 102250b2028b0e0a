//! The merchant's SQLite database: users, invoices, and (through
//! tower-sessions, in the server) sessions.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;

use crate::users::hash_password;

pub type DbError = sqlx::Error;

/// Opens (creating and migrating if need be) the database at `url`, and
/// seeds the demo users and invoices into an empty one.
pub async fn open(url: &str) -> Result<SqlitePool, DbError> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = SqliteConnectOptions::from_str(url)?;
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
    let pool = SqlitePoolOptions::new()
        // Each connection to `:memory:` would be a database of its own.
        .max_connections(if memory { 1 } else { 8 })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&pool)
        .await?;
    if users == 0 {
        seed_demo(&pool).await?;
    }
    Ok(pool)
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
