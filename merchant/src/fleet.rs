//! The merchant's side of a fleet's Redis (`MERCHANT_REDIS_URL`): the
//! sessions ended anywhere (`sessions::EndedSessions`), the merchant's own
//! limits (`limiter::KeyedLimiter`), per-invoice token reuse
//! (`checkout::fleet_tokens`), a mint's questions to all three in one
//! round trip (`gate`) and the catch-up's lease, through
//! [`fleet_redis::FleetRedis`] and its outage rule (the call answers
//! `None`, the instance goes on with what it knows alone, Redis is tried
//! again a second later, and the call is counted as a fallback of its part:
//! `sessions`, `limits`, `tokens`, `gate`, `catch_up`).

pub(crate) use fleet_redis::FleetRedis;

/// For tests: the Redis they share (`TEST_REDIS_URL`; `scripts/test` starts
/// one where none answers), and keys of their own under it.
#[cfg(test)]
pub(crate) fn test_redis() -> (String, String) {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    (url, format!("test:{:016x}:", rand::random::<u64>()))
}
