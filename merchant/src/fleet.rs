//! The merchant's side of a fleet's Redis (`MERCHANT_REDIS_URL`): the
//! sessions ended anywhere (`sessions::EndedSessions`), the merchant's own
//! limits (`limiter::KeyedLimiter`) and per-invoice token reuse
//! (`checkout::shared`), through [`fleet_redis::FleetRedis`] and its outage
//! rule (the call answers `None`, the instance goes on with what it knows
//! alone, Redis is tried again a second later). Every call made without
//! Redis is counted here ([`crate::metrics::REDIS_FALLBACKS`], by part).

use std::future::Future;

use fleet_redis::redis::{aio::ConnectionManager, RedisResult};
pub(crate) use fleet_redis::FleetRedis;

/// [`FleetRedis::run`], each call that goes without Redis counted.
pub(crate) trait CountedRun {
    /// `part`: `sessions`, `limits` or `tokens`, the metric's label.
    fn counted<T, F, Fut>(&self, part: &'static str, call: F) -> impl Future<Output = Option<T>>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>;
}

impl CountedRun for FleetRedis {
    async fn counted<T, F, Fut>(&self, part: &'static str, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let value = self.run(part, call).await;
        if value.is_none() {
            metrics::counter!(crate::metrics::REDIS_FALLBACKS, "part" => part).increment(1);
        }
        value
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
