//! The merchant's users: log-in by email and password (Argon2id), and
//! removal; who a session's user is now is in `logged_in`.
//!
//! A wrong password and an unknown email get the same answer after the same
//! work — an Argon2 verification either way — so neither the answer nor its
//! timing tells which emails have accounts.

mod logged_in;

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Error as DbError};

pub use logged_in::{WallClock, SESSION_MAX_AGE};

/// A logged-in user, as the session remembers them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// The vendor's id for this user: the only customer they may pay for.
    pub customer_id: String,
}

/// Argon2id with the crate's defaults (OWASP's minimum: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashes any password with default parameters")
        .to_string()
}

/// Verified against when the email is unknown, so that case costs the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no user has this password"))
}

pub struct Users {
    pool: AnyPool,
    /// How long a log-in lasts, whatever its activity.
    max_age: time::Duration,
    clock: WallClock,
    /// Users' rows as last read, for [`Users::session_user`].
    held: logged_in::HeldUsers,
}

/// Why [`Users::add`] stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("{0}")]
    Malformed(&'static str),
    #[error("a user with that email exists already")]
    Taken,
    #[error("the database: {0}")]
    Storage(DbError),
}

impl Users {
    /// Log-ins last [`SESSION_MAX_AGE`] on the system's clock.
    pub fn new(pool: AnyPool) -> Self {
        Self {
            pool,
            max_age: time::Duration::ZERO,
            clock: WallClock::default(),
            held: Default::default(),
        }
        .with_session_max_age(SESSION_MAX_AGE)
    }

    /// Adds a user who pays as the vendor's customer `customer_id`.
    /// Refused, with nothing stored: a malformed email, customer id or
    /// name, a password under 12 characters, an email already taken.
    pub async fn add(
        &self,
        email: &str,
        password: &str,
        customer_id: &str,
        name: &str,
    ) -> Result<User, AddUserError> {
        // One address however it is typed: stored lower-cased (PostgreSQL's
        // unique index compares exactly; SQLite's column ignores case too).
        let email = &email.trim().to_lowercase();
        crate::check_credentials(email, password).map_err(|m| AddUserError::Malformed(m.0))?;
        if password.chars().count() < 12 {
            return Err(AddUserError::Malformed(
                "a password is at least 12 characters",
            ));
        }
        crate::input::CustomerId::parse(customer_id).map_err(|m| AddUserError::Malformed(m.0))?;
        let name = name.trim();
        if !(1..=100).contains(&name.chars().count()) || name.chars().any(char::is_control) {
            return Err(AddUserError::Malformed(
                "a name is 1 to 100 printable characters",
            ));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, customer_id, name) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(email)
        .bind(hash_password(password))
        .bind(customer_id)
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map_err(|error| match &error {
            DbError::Database(e) if e.is_unique_violation() => AddUserError::Taken,
            _ => AddUserError::Storage(error),
        })?;
        Ok(User {
            id,
            email: email.to_owned(),
            name: name.to_owned(),
            customer_id: customer_id.to_owned(),
        })
    }

    /// The user with these credentials, if they are right.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>, DbError> {
        let row: Option<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT id, email, name, customer_id, password_hash FROM users WHERE email = $1",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let stored = row
            .as_ref()
            .map_or(dummy_hash(), |r| r.4.as_str())
            .to_owned();
        let password = password.to_owned();
        // Argon2 takes tens of milliseconds of CPU: off the async workers.
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        let user = row
            .filter(|_| matches)
            .map(|(id, email, name, customer_id, _)| User {
                id,
                email,
                name,
                customer_id,
            });
        // Just read: the session's first requests need not read it again.
        if let Some(user) = &user {
            self.hold(user);
        }
        Ok(user)
    }

    /// Removes the user with this email (any case); the removed user, or
    /// `None` if there was none. Their sessions are refused from their next
    /// request ([`Users::session_user`]): at once on this instance, within
    /// [`crate::sessions::FRESH_FOR`] on others;
    /// [`crate::SqlSessions::delete_of_user`] deletes them.
    pub async fn remove(&self, email: &str) -> Result<Option<User>, DbError> {
        let user: Option<User> = sqlx::query_as(
            "DELETE FROM users WHERE email = $1 RETURNING id, email, name, customer_id",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(user) = &user {
            self.held().forget(user.id);
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_right_password_logs_in_and_emails_ignore_case() {
        let db = crate::db::open_with_demo(&crate::db::scratch_url().await)
            .await
            .unwrap();
        let users = Users::new(db.pool().clone());
        let alice = users
            .authenticate("Alice@Example.com", "alice-demo-password")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(alice.customer_id, "cus_acme");
        assert!(users
            .authenticate("alice@example.com", "bob-demo-password")
            .await
            .unwrap()
            .is_none());
        assert!(users
            .authenticate("nobody@example.com", "x")
            .await
            .unwrap()
            .is_none());
    }

    #[test]
    fn hashes_are_salted_argon2id() {
        let (a, b) = (hash_password("pw"), hash_password("pw"));
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
    }

    #[tokio::test]
    async fn an_added_user_logs_in_and_bad_or_taken_details_store_nothing() {
        let db = crate::db::open(&crate::db::scratch_url().await)
            .await
            .unwrap();
        let users = Users::new(db.pool().clone());
        let carol = users
            .add(
                " Carol@Example.com ",
                "a long enough password",
                "cus_acme",
                "Carol",
            )
            .await
            .unwrap();
        assert_eq!(
            (carol.email.as_str(), carol.customer_id.as_str()),
            ("carol@example.com", "cus_acme")
        );
        let logged_in = users
            .authenticate("carol@example.com", "a long enough password")
            .await
            .unwrap();
        assert_eq!(logged_in, Some(carol));
        for (email, password, customer, name, why) in [
            (
                "not-an-email",
                "a long enough password",
                "cus_acme",
                "X",
                "that is not an email address",
            ),
            (
                "dan@example.com",
                "short",
                "cus_acme",
                "X",
                "a password is at least 12 characters",
            ),
            (
                "dan@example.com",
                "a long enough password",
                "cus acme",
                "X",
                "a customer id is the vendor's: 1 to 64 letters, digits, _ or -",
            ),
            (
                "dan@example.com",
                "a long enough password",
                "cus_acme",
                "",
                "a name is 1 to 100 printable characters",
            ),
            (
                "CAROL@example.com",
                "a long enough password",
                "cus_acme",
                "X",
                "a user with that email exists already",
            ),
        ] {
            let error = users
                .add(email, password, customer, name)
                .await
                .unwrap_err();
            assert_eq!(error.to_string(), why);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 1);
    }
}
