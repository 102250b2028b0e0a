//! The storage section: the merchant's database, SQLite (one file, one
//! instance) or PostgreSQL (a fleet): users, invoices, sessions, payments.

use serde::Deserialize;

/// The variables, as the environment names them (upper-cased).
#[derive(Deserialize)]
pub(super) struct Raw {
    merchant_database_url: Option<String>,
}

#[derive(Debug)]
pub struct Storage {
    /// `MERCHANT_DATABASE_URL` (`sqlite://data/merchant.db` by default);
    /// its password never shown.
    pub database_url: merchant::db::SecretUrl,
}

impl Storage {
    pub(super) fn read(raw: Raw) -> Self {
        Self {
            database_url: merchant::db::SecretUrl::new(
                raw.merchant_database_url
                    .unwrap_or_else(|| "sqlite://data/merchant.db".into()),
            ),
        }
    }
}
