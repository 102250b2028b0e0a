//! Sessions served from memory and written through to the database.
//!
//! Every server-function call reads its session. Read from SQLite, that is a
//! hand-off to sqlx's connection thread and back on every request — under
//! load the largest cost of a token mint that reuses a token (BENCHMARKS.md).
//! So the sessions in use are kept in memory too. The server saves every
//! session on every request (`with_always_save`), so that an `OnInactivity`
//! expiry slides with use; an unchanged session is written to the database
//! again only once its expiry has slid by [`SLIDE_WRITE`], a negligible part
//! of an 8-hour inactivity limit.
//!
//! Several servers sharing one database each keep their own copy: a copy is
//! trusted for [`FRESH_FOR`] after it was read or written, then read again,
//! so a log-out on one server takes effect on the others within that time.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::time::Instant;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// How long a copy is trusted before the database is asked again.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// How far an unchanged session's expiry may slide before it is written.
pub const SLIDE_WRITE: time::Duration = time::Duration::minutes(1);

/// Separately locked parts of the map, so that concurrent requests for
/// different sessions seldom wait for each other.
const SHARDS: usize = 16;

/// Past this many copies in a part, the ones no longer trusted are dropped.
const MAX_PER_SHARD: usize = 8_192;

/// A [`SessionStore`] in front of `S` (the database).
#[derive(Debug, Clone)]
pub struct CachedSessions<S> {
    inner: Arc<Inner<S>>,
}

#[derive(Debug)]
struct Inner<S> {
    store: S,
    hasher: RandomState,
    shards: [Mutex<HashMap<Id, Held>>; SHARDS],
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

impl<S: SessionStore> CachedSessions<S> {
    pub fn new(store: S) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                hasher: RandomState::new(),
                shards: std::array::from_fn(|_| Mutex::default()),
            }),
        }
    }

    fn shard(&self, id: &Id) -> MutexGuard<'_, HashMap<Id, Held>> {
        let index = self.inner.hasher.hash_one(id) as usize % SHARDS;
        // A panic while holding the lock leaves the map consistent (each
        // change is a single insert or remove), so a poisoned lock is used.
        self.inner.shards[index]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, record: &Record) {
        let mut shard = self.shard(&record.id);
        if shard.len() >= MAX_PER_SHARD {
            shard.retain(|_, copy| copy.trusted());
            if shard.len() >= MAX_PER_SHARD {
                // Every copy is recent: more sessions in use than memory is
                // meant for. The database has them all; start again.
                shard.clear();
            }
        }
        shard.insert(record.id, Held::synced(record));
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for CachedSessions<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // The database picks a free id (it may change `record.id`).
        self.inner.store.create(record).await?;
        self.remember(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if let Some(copy) = self.shard(&record.id).get_mut(&record.id) {
            let unchanged = copy.record.data == record.data;
            let slid = record.expiry_date - copy.stored_expiry;
            // Only forward: a shortened expiry is written at once.
            if unchanged && slid >= time::Duration::ZERO && slid < SLIDE_WRITE {
                copy.record.expiry_date = record.expiry_date;
                return Ok(());
            }
        }
        self.inner.store.save(record).await?;
        self.remember(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(copy) = self.shard(id).get(id) {
            if copy.trusted() && copy.record.expiry_date > OffsetDateTime::now_utc() {
                return Ok(Some(copy.record.clone()));
            }
        }
        let record = self.inner.store.load(id).await?;
        match &record {
            Some(record) => self.remember(record),
            None => {
                self.shard(id).remove(id);
            }
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        // The database first: a load racing this one cannot then copy back
        // what is being deleted.
        self.inner.store.delete(id).await?;
        self.shard(id).remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
