//! The merchant's database — users, invoices, sessions, payments — on
//! SQLite (the default: one file, one instance) or PostgreSQL (several
//! instances sharing it), behind one code path: sqlx's `Any` driver, with
//! the same queries (`$1` placeholders, which both understand) and each
//! backend's own migrations of the same meaning (`migrations/<backend>/`).

use std::str::FromStr;
use std::sync::Once;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor, SqliteConnection};

use crate::users::hash_password;

pub type DbError = sqlx::Error;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` or `postgresql://` is PostgreSQL; anything else is
    /// read as SQLite (`sqlite:…`, as before).
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// A database URL as configured. It may hold a password
/// (`postgres://user:password@host/db`): shown (`Debug`, `Display`) with
/// the password replaced by `***`; [`SecretUrl::expose`] is for opening.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = &self.0;
        // scheme://user:password@host…: the password is between the first
        // `:` after the scheme and the `@` of the authority.
        let Some(start) = url.find("://").map(|i| i + 3) else {
            return f.write_str(url);
        };
        let authority_end = url[start..].find('/').map_or(url.len(), |i| start + i);
        let authority = &url[start..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                write!(f, "{}***{}", &url[..start + colon + 1], &url[start + at..])
            }
            _ => f.write_str(url),
        }
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({self})")
    }
}

/// The merchant's database: a pool of connections to it.
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// For an in-memory SQLite database: a connection held open as long as
    /// this value lives. Such a database lasts only while a connection to
    /// it is open, and the pool may close and replace its connection (after
    /// a cancelled request, say) — without this, that would start an empty one.
    _keep_alive: Option<std::sync::Mutex<SqliteConnection>>,
}

impl Database {
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Opens (creating and migrating if need be) the database at `url`, with
/// the demo users and invoices (README, "The two commands") seeded into one that has no user:
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

/// Opens (migrating if need be) the database at `url`; an empty one stays
/// empty. For SQLite the file is created if missing, and `sqlite::memory:`
/// gives a private in-memory database, gone when the `Database` is dropped.
/// A PostgreSQL database must exist; its tables are made by the migrations
/// (in the URL's `search_path`, if it names one).
pub async fn open(url: &str) -> Result<Database, DbError> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    match Backend::of(url) {
        Backend::Postgres => {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(std::time::Duration::from_secs(5))
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Database {
                pool,
                backend: Backend::Postgres,
                _keep_alive: None,
            })
        }
        Backend::Sqlite => open_sqlite(url).await,
    }
}

async fn open_sqlite(url: &str) -> Result<Database, DbError> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let url = if memory {
        // Named and shared, so every connection of this database (and only
        // of this one) sees the same data.
        let name: u64 = rand::random();
        format!("sqlite:file:merchant-{name:016x}?mode=memory&cache=shared")
    } else {
        url.to_owned()
    };
    let options = SqliteConnectOptions::from_str(&url)?;
    if let Some(dir) = options.get_filename().parent().filter(|_| !memory) {
        std::fs::create_dir_all(dir)?;
    }
    let keep_alive = if memory {
        Some(std::sync::Mutex::new(options.connect().await?))
    } else {
        None
    };
    // `Any` takes its options from the URL alone (sqlx's SQLite defaults:
    // foreign keys on, a 5 s wait for a locked database): the file is
    // created if missing (`mode=rwc`) and gets a write-ahead log, so that
    // readers do not wait for a writer.
    let any = AnyConnectOptions::from_str(&with_create(&url, memory))?;
    let pool = AnyPoolOptions::new()
        // A shared in-memory database locks whole tables: one connection.
        .max_connections(if memory { 1 } else { 8 })
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if !memory {
                    connection.execute("PRAGMA journal_mode = WAL").await?;
                }
                Ok(())
            })
        })
        .connect_with(any)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(Database {
        pool,
        backend: Backend::Sqlite,
        _keep_alive: keep_alive,
    })
}

/// `url` with `mode=rwc` (create if missing) unless it names a mode.
fn with_create(url: &str, memory: bool) -> String {
    if memory || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// For tests (this crate's and the server's), not for the app: the URL of
/// a database of the test's own. In memory, or — when
/// `MERCHANT_TEST_DATABASE_URL` names a PostgreSQL database — a new schema
/// there (`scripts/test` runs the tests both ways, in a database it makes
/// for the run and drops after).
#[doc(hidden)]
pub async fn scratch_url() -> String {
    let Ok(base) = std::env::var("MERCHANT_TEST_DATABASE_URL") else {
        return "sqlite::memory:".to_owned();
    };
    assert_eq!(
        Backend::of(&base),
        Backend::Postgres,
        "MERCHANT_TEST_DATABASE_URL: a postgres:// URL"
    );
    let schema = format!("test_{:016x}", rand::random::<u64>());
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("MERCHANT_TEST_DATABASE_URL: the PostgreSQL server answers");
    connection
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("a schema for the test");
    let join = if base.contains('?') { '&' } else { '?' };
    format!("{base}{join}options[search_path]={schema}")
}

/// The documented demo users (the book, `docs/src/users-and-mint.md`) and their invoices, matching the
/// vendor sandbox's seed.
async fn seed_demo(pool: &AnyPool) -> Result<(), DbError> {
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
            "INSERT INTO users (email, password_hash, customer_id, name) VALUES ($1, $2, $3, $4)",
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
            "INSERT INTO invoices (id, customer_id, invoice_number, currency, total) VALUES ($1, $2, $3, $4, $5)",
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

    async fn user_count(pool: &AnyPool) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[test]
    fn a_database_url_never_shows_its_password() {
        let url =
            SecretUrl::new("postgres://merchant:s3cret@db.internal:5432/shop?sslmode=require");
        assert_eq!(
            url.to_string(),
            "postgres://merchant:***@db.internal:5432/shop?sslmode=require"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            url.expose(),
            "postgres://merchant:s3cret@db.internal:5432/shop?sslmode=require"
        );
        for plain in [
            "sqlite://data/merchant.db",
            "sqlite::memory:",
            "postgres://postgres@127.0.0.1/test",
        ] {
            assert_eq!(SecretUrl::new(plain).to_string(), plain);
        }
        assert_eq!(Backend::of("postgresql://x/y"), Backend::Postgres);
        assert_eq!(Backend::of("sqlite://data/merchant.db"), Backend::Sqlite);
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
