//! Sessions: rows in the merchant's database, served from memory and
//! written through, where a removed session stays removed.
//!
//! Two rules make a log-out final, however requests interleave:
//! - A save only ever updates a live row ([`SessionRows::update`]); only
//!   [`SessionStore::create`] makes one. A request that was still running
//!   when its session was deleted (log-out, or the id change at log-in)
//!   saves into nothing, on this server and on any other sharing the
//!   database. (tower-sessions' own SQL stores save with an upsert, which
//!   would write the deleted session back.)
//! - A copy read or written while a delete ran is not kept: each part of the
//!   map counts its deletions, and a load or save that saw the count change
//!   while it waited for the database keeps nothing in memory.
//!
//! Every server-function call reads its session. Read from SQLite, that is a
//! hand-off to sqlx's connection thread and back on every request — under
//! load the largest cost of a token mint that reuses a token (BENCHMARKS.md).
//! So the sessions in use are kept in memory too. A session's expiry slides
//! with use (the server re-sets it whenever the session's user is read); an
//! unchanged session is written to the database again only once its expiry
//! has slid by [`SLIDE_WRITE`], a negligible part of an 8-hour limit.
//!
//! Several servers sharing one database each keep their own copy: a copy is
//! trusted for [`FRESH_FOR`] after it was read or written, then read again,
//! so a log-out on one server takes effect on the others within that time —
//! or at once, in a fleet sharing Redis ([`CachedSessions::in_fleet`],
//! [`EndedSessions`]): then a copy is used only after Redis says its
//! session has not ended.
//!
//! The store also notes, for the request it runs in, which session it
//! created or saved as live and whether it deleted one ([`Writes`]), so the
//! server sets a session cookie only for those (`server/src/session_cookie.rs`).

mod ended;
mod sql;
mod writes;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::time::Instant;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

pub(crate) use ended::key as ended_key;
pub use ended::{known_live, EndedSessions, ENDED_FOR};
pub use sql::SqlSessions;
pub use writes::{recording_writes, Writes};

/// Where sessions are kept for good: one row per session id.
#[async_trait]
pub trait SessionRows: std::fmt::Debug + Send + Sync + 'static {
    /// Adds a row for a new id; `false` if the id is taken.
    async fn insert(&self, record: &Record) -> session_store::Result<bool>;
    /// Overwrites the row of a live (present, unexpired) session; `false`,
    /// writing nothing, if there is none — never creates one.
    async fn update(&self, record: &Record) -> session_store::Result<bool>;
    /// The session, unless it is missing or expired.
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>>;
    async fn delete(&self, id: &Id) -> session_store::Result<()>;
}

/// The session's keys for its logged-in user (written at log-in, by `app`):
/// the user as they were then ([`crate::User`])…
pub const USER_KEY: &str = "user";
/// …and when, in Unix seconds ([`crate::Users::log_in_time`]).
pub const LOGGED_IN_AT_KEY: &str = "logged_in_at";

/// How long a copy is trusted before the database is asked again.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// How far an unchanged session's expiry may slide before it is written.
pub const SLIDE_WRITE: time::Duration = time::Duration::minutes(1);

/// Separately locked parts of the map, so that concurrent requests for
/// different sessions seldom wait for each other.
const SHARDS: usize = 16;

/// Past this many copies in a part, the ones no longer trusted are dropped.
const MAX_PER_SHARD: usize = 8_192;

/// A [`SessionStore`] over `R` (the database's rows).
#[derive(Debug)]
pub struct CachedSessions<R> {
    inner: Arc<Inner<R>>,
}

impl<R> Clone for CachedSessions<R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<R> {
    rows: R,
    /// Sessions ended on any instance, if the fleet shares Redis.
    ended: Option<EndedSessions>,
    hasher: RandomState,
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Debug, Default)]
struct Shard {
    copies: HashMap<Id, Held>,
    /// Deletions begun in this part so far: a load or save that finds it
    /// changed after its database call may hold a copy of a deleted session.
    deletions: u64,
}

#[derive(Debug)]
struct Held {
    record: Record,
    /// The expiry the database has; `record`'s may have slid since.
    stored_expiry: OffsetDateTime,
    /// When the database was last read or written for this session.
    synced_at: Instant,
}

impl Held {
    fn synced(record: &Record) -> Self {
        Self {
            record: record.clone(),
            stored_expiry: record.expiry_date,
            synced_at: Instant::now(),
        }
    }

    fn trusted(&self) -> bool {
        self.synced_at.elapsed() < FRESH_FOR
    }
}

impl Shard {
    /// Keeps a copy of `record`, unless a deletion began since `seen`;
    /// whether it kept one.
    fn remember(&mut self, record: &Record, seen: u64) -> bool {
        if self.deletions != seen {
            self.copies.remove(&record.id);
            return false;
        }
        if self.copies.len() >= MAX_PER_SHARD {
            self.copies.retain(|_, copy| copy.trusted());
            if self.copies.len() >= MAX_PER_SHARD {
                // Every copy is recent: more sessions in use than memory is
                // meant for. The database has them all; start again.
                self.copies.clear();
            }
        }
        self.copies.insert(record.id, Held::synced(record));
        true
    }

    fn forget(&mut self, id: &Id) {
        self.deletions += 1;
        self.copies.remove(id);
    }
}

impl<R: SessionRows> CachedSessions<R> {
    /// One instance's sessions: a log-out elsewhere is seen once the copy
    /// is no longer fresh ([`FRESH_FOR`]).
    pub fn new(rows: R) -> Self {
        Self::holding(rows, None)
    }

    /// An instance of a fleet: each use of a copy asks `ended` first, so a
    /// log-out made on another instance is honoured at once.
    pub fn in_fleet(rows: R, ended: EndedSessions) -> Self {
        Self::holding(rows, Some(ended))
    }

    fn holding(rows: R, ended: Option<EndedSessions>) -> Self {
        Self {
            inner: Arc::new(Inner {
                rows,
                ended,
                hasher: RandomState::new(),
                shards: std::array::from_fn(|_| Mutex::default()),
            }),
        }
    }

    /// Whether a held copy of `id` may be used: while it is fresh, unless
    /// the fleet says its session has ended (if Redis cannot say, fresh is
    /// enough, as on a single instance).
    async fn still_live(&self, id: &Id, fresh: bool) -> bool {
        if !fresh {
            return false;
        }
        match &self.inner.ended {
            Some(ended) => ended.has_ended(id).await != Some(true),
            None => true,
        }
    }

    fn shard(&self, id: &Id) -> MutexGuard<'_, Shard> {
        let index = self.inner.hasher.hash_one(id) as usize % SHARDS;
        // A panic while holding the lock leaves the map consistent (each
        // change is a single insert or remove), so a poisoned lock is used.
        self.inner.shards[index]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl<R: SessionRows> SessionStore for CachedSessions<R> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id is all but certainly free; if not, draw again.
        while !self.inner.rows.insert(record).await? {
            record.id = Id::default();
        }
        let mut shard = self.shard(&record.id);
        let seen = shard.deletions;
        shard.remember(record, seen);
        writes::kept(record.id);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let seen = {
            let mut shard = self.shard(&record.id);
            if let Some(copy) = shard.copies.get_mut(&record.id) {
                let unchanged = copy.record.data == record.data;
                let slid = record.expiry_date - copy.stored_expiry;
                // Only forward: a shortened expiry is written at once.
                if unchanged && slid >= time::Duration::ZERO && slid < SLIDE_WRITE {
                    copy.record.expiry_date = record.expiry_date;
                    writes::kept(record.id);
                    return Ok(());
                }
            }
            shard.deletions
        };
        let saved = self.inner.rows.update(record).await?;
        let mut shard = self.shard(&record.id);
        let kept = if saved {
            shard.remember(record, seen)
        } else {
            // Deleted (logged out, or replaced at log-in) or expired: it
            // stays that way. The request's answer goes out; its session is
            // gone whatever its cookie says.
            shard.copies.remove(&record.id);
            tracing::debug!("refused to save a session that no longer exists");
            false
        };
        // Its answer sets the cookie only for a session saved live with no
        // deletion in this part meanwhile (at worst, a refresh is skipped).
        if kept {
            writes::kept(record.id);
        } else {
            writes::gone(record.id, false);
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let held = {
            let shard = self.shard(id);
            shard
                .copies
                .get(id)
                .filter(|copy| copy.record.expiry_date > OffsetDateTime::now_utc())
                .map(|copy| (copy.record.clone(), copy.trusted(), shard.deletions))
        };
        if let Some((record, trusted, _)) = &held {
            if self.still_live(id, *trusted).await {
                return Ok(Some(record.clone()));
            }
        }
        let seen = held.map_or_else(|| self.shard(id).deletions, |(_, _, seen)| seen);
        let record = self.inner.rows.load(id).await?;
        let mut shard = self.shard(id);
        match &record {
            Some(record) => {
                shard.remember(record, seen);
            }
            None => {
                shard.copies.remove(id);
            }
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        // Counted before the database call and after it: a load or save
        // whose database call overlapped this one keeps no copy, and a copy
        // made before it is dropped after it.
        self.shard(id).forget(id);
        // The fleet hears of it before the row goes: from then on no
        // instance uses its copy.
        if let Some(ended) = &self.inner.ended {
            ended.end(id).await;
        }
        self.inner.rows.delete(id).await?;
        self.shard(id).forget(id);
        writes::gone(*id, true);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
