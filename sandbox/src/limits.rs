//! Behaving like a real vendor under load: a per-key rate limit, and caps on
//! request size answered before any parsing or crypto.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// All request headers together: far above what any client sends, far below
/// what would cost the server real memory per connection.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Every JSON or form body this API accepts is under 1 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A token bucket per key: bursts of up to `burst` requests, refilled at
/// `per_sec` a second.
pub struct RateLimiter {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at_millis: u64,
}

/// Buckets kept before idle ones are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// `rate` requests per second, in bursts of up to `rate`; 0 turns limiting off.
    pub fn new(rate: u32) -> Self {
        Self::with_burst(rate, f64::from(rate))
    }

    /// Bursts of up to `burst`, then `per_sec` a second (which may be below
    /// one: 0.1 is one every ten seconds). A `burst` of 0 turns limiting off.
    pub fn with_burst(burst: u32, per_sec: f64) -> Self {
        Self {
            burst: f64::from(burst),
            per_sec,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request's token from `key`'s bucket, or says how many whole
    /// seconds to wait for one.
    pub fn check(&self, key: &str, now_millis: u64) -> Result<(), ApiError> {
        self.take(key, now_millis)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    }

    /// Takes one token from `key`'s bucket; `Err` holds the whole seconds
    /// until one is back.
    pub fn take(&self, key: &str, now_millis: u64) -> Result<(), u64> {
        if self.burst == 0.0 || self.per_sec <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            // A bucket idle long enough to be full again is the same as none.
            let refill_millis = (self.burst / self.per_sec * 1000.0) as u64;
            buckets.retain(|_, b| now_millis.saturating_sub(b.at_millis) < refill_millis);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at_millis: now_millis,
        });
        let elapsed = now_millis.saturating_sub(bucket.at_millis) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * self.per_sec).min(self.burst);
        bucket.at_millis = now_millis;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_sec;
            Err(wait.ceil().max(1.0) as u64)
        }
    }

    /// Gives back a token taken for something that turned out not to count
    /// (a forgotten bucket was full anyway, so there is nothing to do then).
    pub fn give_back(&self, key: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
        }
    }
}

/// 431 for a request whose headers together exceed [`MAX_HEADER_BYTES`].
pub async fn cap_headers(request: Request<Body>, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            axum::Json(serde_json::json!({
                "code": "request_header_fields_too_large",
                "message": "the request headers are too large",
            })),
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_per_second_then_429_with_retry_after_and_other_keys_untouched() {
        let limiter = RateLimiter::new(5);
        for _ in 0..5 {
            limiter.check("client:a", 1_000).unwrap();
        }
        assert_eq!(
            limiter.check("client:a", 1_000),
            Err(ApiError::RateLimited {
                retry_after_secs: 1
            })
        );
        limiter.check("client:b", 1_000).unwrap();
        // 200 ms later one token has come back.
        limiter.check("client:a", 1_200).unwrap();
        assert!(limiter.check("client:a", 1_200).is_err());
    }

    #[test]
    fn a_slow_bucket_refills_at_its_own_rate_and_takes_back_what_did_not_count() {
        // Three at once, then one every ten seconds.
        let limiter = RateLimiter::with_burst(3, 0.1);
        for _ in 0..3 {
            limiter.take("k", 0).unwrap();
        }
        assert_eq!(limiter.take("k", 0), Err(10));
        assert_eq!(limiter.take("k", 4_000), Err(6));
        limiter.take("k", 10_000).unwrap();
        limiter.give_back("k");
        limiter.take("k", 10_000).unwrap();
        assert!(limiter.take("k", 10_000).is_err());
        // Never above the burst.
        for _ in 0..10 {
            limiter.give_back("k");
        }
        for _ in 0..3 {
            limiter.take("k", 10_000).unwrap();
        }
        assert!(limiter.take("k", 10_000).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            limiter.check("k", 0).unwrap();
        }
    }
}
