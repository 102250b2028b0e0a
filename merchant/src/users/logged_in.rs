//! Who a session's user is now: the session holds the user as they were at
//! log-in and when that was; each use checks both against today.
//!
//! - A log-in lasts at most its absolute lifetime ([`Users::with_session_max_age`],
//!   `MERCHANT_SESSION_MAX_AGE_SECS`), counted from log-in whatever the
//!   activity: the inactivity expiry slides with every use, so without it a
//!   stolen cookie in use would live for ever.
//! - A removed user loses access: the session's copy is checked against the
//!   user's row. Every call that may spend vendor quota reads its user, and
//!   the reuse path of a mint reads nothing else from the database
//!   (BENCHMARKS.md: each SQLite query is two thread switches), so the row
//!   is held in memory and trusted for [`FRESH_FOR`], as the sessions are:
//!   a removal made here counts at once, one made by another process
//!   (`server users remove`, another instance) within those 5 seconds. On
//!   the hot path that is a lock, a map lookup and a copy of the user:
//!   about 2 µs a call in a debug build, where a primary-key read took
//!   95 µs on SQLite and 320 µs on a local PostgreSQL (measured once,
//!   single task, on the 2-core development machine).
//!
//! The time is a [`WallClock`]: the system's, which tests move.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::Error as DbError;
use time::OffsetDateTime;
// Tokio's clock, which tests pause and move.
use tokio::time::Instant;

use super::{User, Users};
use crate::sessions::FRESH_FOR;

/// How long a log-in lasts by default, whatever its activity: 12 hours.
pub const SESSION_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// Past this many users held, the copies no longer trusted are dropped.
const MAX_HELD: usize = 65_536;

/// The wall-clock time log-ins are judged by: the system's, plus however
/// far a test has moved it (never, in the server).
#[derive(Clone, Debug, Default)]
pub struct WallClock {
    ahead_secs: Arc<AtomicI64>,
}

impl WallClock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.ahead_secs.load(Ordering::SeqCst))
    }

    /// For tests: moves this clock, and every clone of it, forward.
    #[doc(hidden)]
    pub fn advance(&self, by: std::time::Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.ahead_secs.fetch_add(secs, Ordering::SeqCst);
    }
}

/// Users' rows as last read, each trusted for [`FRESH_FOR`].
#[derive(Debug, Default)]
pub(super) struct Held {
    copies: HashMap<i64, (Option<User>, Instant)>,
    /// Removals begun so far: a read that saw it change may hold a removed row.
    removals: u64,
}

impl Held {
    fn remember(&mut self, id: i64, user: Option<User>, seen: u64) {
        if self.removals != seen {
            self.copies.remove(&id);
            return;
        }
        if self.copies.len() >= MAX_HELD {
            self.copies.retain(|_, (_, at)| at.elapsed() < FRESH_FOR);
            if self.copies.len() >= MAX_HELD {
                self.copies.clear();
            }
        }
        self.copies.insert(id, (user, Instant::now()));
    }

    pub(super) fn forget(&mut self, id: i64) {
        self.removals += 1;
        self.copies.remove(&id);
    }
}

impl Users {
    /// Log-ins last `max_age` from log-in, whatever their activity.
    pub fn with_session_max_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age = time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX);
        self
    }

    /// Judges log-ins' age by `clock` (tests move it).
    pub fn with_clock(mut self, clock: WallClock) -> Self {
        self.clock = clock;
        self
    }

    /// The time to record in a session at log-in: Unix seconds on this clock.
    pub fn log_in_time(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// The session's user as they are now, or `None` if the log-in is over:
    /// `logged_in_at` (Unix seconds) is missing or older than the maximum
    /// age, or the user's row is gone or is another user's (SQLite may give
    /// a removed user's id to the next one added).
    pub async fn session_user(
        &self,
        held: &User,
        logged_in_at: Option<i64>,
    ) -> Result<Option<User>, DbError> {
        let now = self.clock.now().unix_timestamp();
        let within =
            logged_in_at.is_some_and(|at| now.saturating_sub(at) < self.max_age.whole_seconds());
        if !within {
            return Ok(None);
        }
        let row = self.row(held.id).await?;
        Ok(row.filter(|user| user.email == held.email))
    }

    /// User `id`'s row: from memory while fresh, else from the database.
    async fn row(&self, id: i64) -> Result<Option<User>, DbError> {
        let seen = {
            let held = self.held();
            if let Some((user, at)) = held.copies.get(&id) {
                if at.elapsed() < FRESH_FOR {
                    return Ok(user.clone());
                }
            }
            held.removals
        };
        let user: Option<User> =
            sqlx::query_as("SELECT id, email, name, customer_id FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        self.held().remember(id, user.clone(), seen);
        Ok(user)
    }

    /// Holds `user`'s row as just read (at log-in).
    pub(super) fn hold(&self, user: &User) {
        let mut held = self.held();
        let seen = held.removals;
        held.remember(user.id, Some(user.clone()), seen);
    }

    pub(super) fn held(&self) -> MutexGuard<'_, Held> {
        // Each change is a single insert or remove: a poisoned lock is consistent.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(super) type HeldUsers = Mutex<Held>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn demo() -> (crate::db::Database, User) {
        let db = crate::db::open_with_demo(&crate::db::scratch_url().await)
            .await
            .unwrap();
        let alice = Users::new(db.pool().clone())
            .authenticate("alice@example.com", "alice-demo-password")
            .await
            .unwrap()
            .unwrap();
        (db, alice)
    }

    #[tokio::test]
    async fn a_log_in_lasts_its_max_age_however_busy() {
        let (db, alice) = demo().await;
        let clock = WallClock::default();
        let users = Users::new(db.pool().clone())
            .with_session_max_age(Duration::from_secs(3600))
            .with_clock(clock.clone());
        let at = users.log_in_time();
        assert_eq!(
            users.session_user(&alice, Some(at)).await.unwrap(),
            Some(alice.clone())
        );
        clock.advance(Duration::from_secs(3599));
        assert!(users
            .session_user(&alice, Some(at))
            .await
            .unwrap()
            .is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(users.session_user(&alice, Some(at)).await.unwrap(), None);
        // A session that never recorded its log-in (made before the
        // lifetime existed) is over too.
        assert_eq!(users.session_user(&alice, None).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_removal_counts_at_once_here_and_within_the_freshness_elsewhere() {
        let (db, alice) = demo().await;
        let (here, elsewhere) = (Users::new(db.pool().clone()), Users::new(db.pool().clone()));
        let at = here.log_in_time();
        assert!(elsewhere
            .session_user(&alice, Some(at))
            .await
            .unwrap()
            .is_some());
        assert!(here.session_user(&alice, Some(at)).await.unwrap().is_some());

        let removed = here.remove("Alice@Example.com").await.unwrap();
        assert_eq!(removed.as_ref(), Some(&alice));
        assert_eq!(here.session_user(&alice, Some(at)).await.unwrap(), None);
        // Elsewhere its copy stands for FRESH_FOR (the price of reading no
        // row per request), then the row is read again: gone.
        assert!(elsewhere
            .session_user(&alice, Some(at))
            .await
            .unwrap()
            .is_some());
        tokio::time::pause();
        tokio::time::advance(FRESH_FOR).await;
        tokio::time::resume();
        assert_eq!(
            elsewhere.session_user(&alice, Some(at)).await.unwrap(),
            None
        );
        assert_eq!(here.remove("alice@example.com").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_row_with_the_sessions_id_but_another_email_is_not_its_user() {
        let (db, alice) = demo().await;
        let users = Users::new(db.pool().clone());
        // SQLite may give a removed user's id to the next one added.
        let before = User {
            email: "gone@example.com".to_owned(),
            ..alice
        };
        let at = users.log_in_time();
        assert_eq!(users.session_user(&before, Some(at)).await.unwrap(), None);
    }
}
