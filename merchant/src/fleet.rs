//! The merchant's side of a fleet's Redis (`MERCHANT_REDIS_URL`): one lazy
//! connection under one key prefix, for the sessions ended anywhere
//! (`sessions::EndedSessions`) and the merchant's own limits
//! (`limiter::KeyedLimiter`). A call that fails, or takes longer than
//! [`REDIS_TIMEOUT`], answers `None`: the caller goes on with what this
//! instance knows alone, Redis is left alone for [`RETRY_AFTER`], and the
//! outage is logged once and every such call counted
//! ([`crate::metrics::REDIS_FALLBACKS`]).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

/// A Redis call slower than this counts as Redis down: requests wait on
/// these calls, so they must be quick or skipped.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// After Redis failed, this long without it before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A fleet's Redis. Cheap to clone: clones share the connection and the
/// outage state.
#[derive(Clone)]
pub struct FleetRedis {
    redis: ConnectionManager,
    prefix: Arc<str>,
    down_until: Arc<Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for FleetRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold Redis's password: not kept here at all.
        f.debug_struct("FleetRedis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl FleetRedis {
    /// The Redis at `url`, under keys starting with `key_prefix`. Connects
    /// lazily: an instance starts while Redis is down.
    pub fn new(url: &str, key_prefix: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let redis = ConnectionManager::new_lazy_with_config(redis::Client::open(url)?, config)?;
        Ok(Self {
            redis,
            prefix: key_prefix.into(),
            down_until: Arc::default(),
        })
    }

    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Runs `call` with a connection, unless Redis is resting after a
    /// failure; `None` if it is, or if the call fails now.
    pub(crate) async fn run<T, F, Fut>(&self, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let resting = self
            .down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until);
        if !resting {
            let outcome = tokio::time::timeout(REDIS_TIMEOUT * 2, call(self.redis.clone())).await;
            let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
            if let Ok(Ok(value)) = outcome {
                if down.take().is_some() {
                    tracing::info!(
                        "Redis answers again: the fleet's sessions and limits are shared again"
                    );
                }
                return Some(value);
            }
            if down.is_none() {
                tracing::warn!(
                    "Redis cannot be reached: log-outs reach the other instances within their \
                     copies' freshness, and the limits count on this instance alone, until it \
                     answers again"
                );
            }
            *down = Some(Instant::now() + RETRY_AFTER);
        }
        metrics::counter!(crate::metrics::REDIS_FALLBACKS).increment(1);
        None
    }
}

/// For tests: the Redis they share (`TEST_REDIS_URL`; `scripts/test` starts
/// one where none answers), and keys of their own under it.
#[cfg(test)]
pub(crate) fn test_redis() -> (String, String) {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    (url, format!("test:{:016x}:", rand::random::<u64>()))
}
