//! A log-out that every instance of a fleet honours at once: the ended
//! session's id is written to Redis before its row is deleted, and an
//! instance asks Redis before it trusts its own copy of a session. Without
//! Redis (none configured, or unreachable) a copy is trusted for
//! [`super::FRESH_FOR`], as on a single instance.
//!
//! Only ended ids are stored, each until the longest a session can live
//! ([`ENDED_FOR`]): an ended id is worth nothing to anyone who reads it.

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use tokio::time::Instant;
use tower_sessions::session::Id;

/// How long an ended id is remembered: longer than any session lives
/// (8 hours of inactivity, `server`'s session layer).
pub const ENDED_FOR: Duration = Duration::from_secs(9 * 3600);

/// A Redis call slower than this counts as Redis down: every request that
/// has a session asks, so it must be quick or skipped.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// After Redis failed, this long on the copies' own freshness.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Sessions ended anywhere in the fleet, kept in Redis.
pub struct EndedSessions {
    redis: ConnectionManager,
    prefix: String,
    down_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for EndedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndedSessions")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl EndedSessions {
    /// Through the Redis at `url`, under keys starting with `key_prefix`.
    /// Connects lazily.
    pub fn new(url: &str, key_prefix: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let redis = ConnectionManager::new_lazy_with_config(redis::Client::open(url)?, config)?;
        Ok(Self {
            redis,
            prefix: key_prefix.to_owned(),
            down_until: Mutex::new(None),
        })
    }

    fn key(&self, id: &Id) -> String {
        format!("{}session-ended:{id}", self.prefix)
    }

    /// Tells the fleet `id` has ended; `false` if Redis could not be told
    /// (the others then stop trusting their copies within `FRESH_FOR`).
    pub async fn end(&self, id: &Id) -> bool {
        let mut redis = self.redis.clone();
        let key = self.key(id);
        let set = redis.set_ex::<_, _, ()>(key, 1, ENDED_FOR.as_secs());
        self.outcome(set).await.is_some()
    }

    /// Whether `id` has ended; `None` if Redis cannot say now.
    pub async fn has_ended(&self, id: &Id) -> Option<bool> {
        if self.resting() {
            return None;
        }
        let mut redis = self.redis.clone();
        let key = self.key(id);
        self.outcome(redis.exists::<_, bool>(key)).await
    }

    fn resting(&self) -> bool {
        self.down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    async fn outcome<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let outcome = tokio::time::timeout(REDIS_TIMEOUT * 2, call).await;
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(Ok(value)) => {
                if down.take().is_some() {
                    tracing::info!("Redis answers again: log-outs reach every instance at once");
                }
                Some(value)
            }
            Ok(Err(_)) | Err(_) => {
                if down.is_none() {
                    tracing::warn!(
                        "Redis cannot be reached: a log-out reaches the other instances within \
                         their copies' freshness until it answers again"
                    );
                }
                *down = Some(Instant::now() + RETRY_AFTER);
                metrics::counter!(crate::metrics::SESSION_REDIS_FALLBACKS).increment(1);
                None
            }
        }
    }
}
