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

/// A token bucket per key: `rate` requests per second, bursts of up to `rate`.
pub struct RateLimiter {
    rate: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at_millis: u64,
}

impl RateLimiter {
    /// `rate` 0 turns limiting off.
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request's token from `key`'s bucket, or says how many whole
    /// seconds to wait for one.
    pub fn check(&self, key: &str, now_millis: u64) -> Result<(), ApiError> {
        if self.rate == 0 {
            return Ok(());
        }
        let rate = f64::from(self.rate);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 10_000 {
            // A bucket that has been idle for a second is full again: forget it.
            buckets.retain(|_, b| now_millis.saturating_sub(b.at_millis) < 1000);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: rate,
            at_millis: now_millis,
        });
        let elapsed = now_millis.saturating_sub(bucket.at_millis) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at_millis = now_millis;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err(ApiError::RateLimited {
                retry_after_secs: wait.ceil().max(1.0) as u64,
            })
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
    fn a_rate_of_zero_is_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            limiter.check("k", 0).unwrap();
        }
    }
}
