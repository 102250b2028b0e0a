//! Retrying vendor calls that failed for a transient reason (5xx, 429, a
//! dropped connection): at most two retries, with jittered exponential
//! backoff, or the vendor's `Retry-After` when it gives one.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::VendorError;

/// Two retries: a third failure in a row is an outage, not a blip, and the
/// page should hear about it within the configured timeouts.
pub const MAX_RETRIES: u32 = 2;
/// First backoff; doubled each retry, then "full jitter" picks a delay
/// between zero and that, so many clients do not retry in lockstep.
const BASE_BACKOFF: Duration = Duration::from_millis(200);
/// A `Retry-After` longer than this is not worth waiting for in a request:
/// fail and let the caller say "busy, retry in N s".
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Runs `call` until it succeeds, fails for good, or has been retried
/// [`MAX_RETRIES`] times.
pub async fn retrying<T, F, Fut>(mut call: F) -> Result<T, VendorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, VendorError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(error) if attempt < MAX_RETRIES && error.is_transient() => {
                let delay = match error.retry_after() {
                    Some(after) if after > MAX_RETRY_AFTER => return Err(error),
                    Some(after) => after,
                    None => jittered(BASE_BACKOFF * 2u32.pow(attempt)),
                };
                tracing::debug!(attempt, ?delay, %error, "retrying a vendor call");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn jittered(ceiling: Duration) -> Duration {
    ceiling.mul_f64(rand::rng().random_range(0.0..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn down() -> VendorError {
        VendorError::Unavailable {
            reason: "HTTP 503".into(),
            retry_after: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_is_retried_until_it_succeeds() {
        let calls = AtomicU32::new(0);
        let result = retrying(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(down()),
                _ => Ok("ok"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "ok");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn s2_at_most_two_retries_then_the_error() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = retrying(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(down())
        })
        .await;
        assert!(matches!(result, Err(VendorError::Unavailable { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Jittered: at most 200 ms + 400 ms of waiting in all.
        assert!(started.elapsed() <= Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_a_long_one_is_not_waited_for() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = retrying(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(VendorError::Unavailable {
                    reason: "HTTP 429".into(),
                    retry_after: Some(Duration::from_secs(2)),
                }),
                _ => Ok(()),
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(started.elapsed(), Duration::from_secs(2));

        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retrying(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(VendorError::Unavailable {
                reason: "HTTP 429".into(),
                retry_after: Some(Duration::from_secs(60)),
            })
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_or_nonsense_is_not_retried() {
        for error in [
            VendorError::Rejected {
                status: 400,
                code: "invalid_request".into(),
            },
            VendorError::Malformed("no token"),
        ] {
            let calls = AtomicU32::new(0);
            let error = std::cell::RefCell::new(Some(error));
            let _: Result<(), _> = retrying(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                let e = error
                    .borrow_mut()
                    .take()
                    .unwrap_or(VendorError::Malformed("again"));
                async move { Err(e) }
            })
            .await;
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }
}
