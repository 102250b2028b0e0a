//! The merchant's OAuth access token, cached and shared by every request.
//!
//! The vendor allows 5 requests per second per key, so asking for a token per
//! checkout would soon be refused. One token serves every request until a
//! margin before it expires; when it is due, exactly one caller fetches the
//! next while the others wait for it. Time is tokio's, so tests pause it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use tokio::time::Instant;

use crate::error::VendorError;
use crate::secret::OAuthAccessToken;

/// Lifetimes outside this range are the vendor's mistake, not a plan: a
/// lifetime of 0 would refetch on every call, a year would never refresh.
const MIN_LIFETIME: Duration = Duration::from_secs(30);
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Refresh this long before expiry, so a token never expires in flight: it
/// covers the slowest vendor round trip (5 s timeout) many times over.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long a token of `lifetime` is used before the next is fetched: the
/// lifetime (bounded) less a margin, never more than half of it.
pub(crate) fn fresh_for(lifetime: Duration) -> Duration {
    let lifetime = lifetime.clamp(MIN_LIFETIME, MAX_LIFETIME);
    lifetime - REFRESH_MARGIN.min(lifetime / 2)
}

struct Cached {
    token: OAuthAccessToken,
    refresh_at: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    /// Read on every mint, replaced about once an hour: readers take no lock
    /// and never wait for each other (arc-swap), and a hit hands out the
    /// token by reference count, without allocating.
    current: ArcSwapOption<Cached>,
    /// Held by the one caller fetching a new token (single flight).
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (which returns a token and
    /// its lifetime) if none is fresh.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<OAuthAccessToken, VendorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(OAuthAccessToken, Duration), VendorError>>,
    {
        self.get_fresh_for(|| async {
            let (token, lifetime) = fetch().await?;
            Ok((token, fresh_for(lifetime)))
        })
        .await
    }

    /// As [`TokenCache::get`], but `fetch` says how long its token stays
    /// fresh (used as is): a token another instance fetched, read from the
    /// fleet's shared state with the time it has left there.
    pub async fn get_fresh_for<F, Fut>(&self, fetch: F) -> Result<OAuthAccessToken, VendorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(OAuthAccessToken, Duration), VendorError>>,
    {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _gate = self.refreshing.lock().await;
        // Whoever held the gate before us may have fetched it already.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let (token, fresh_for) = fetch().await?;
        self.current.store(Some(Arc::new(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + fresh_for,
        })));
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one: the vendor refused it.
    pub fn invalidate(&self, token: &OAuthAccessToken) {
        // Only if unchanged since we looked: a newer token stays.
        self.current.rcu(|current| match current {
            Some(c) if &c.token == token => None,
            other => other.clone(),
        });
    }

    /// Makes the cached token due now.
    #[cfg(test)]
    pub(crate) fn expire(&self) {
        if let Some(cached) = self.current.load_full() {
            self.current.store(Some(Arc::new(Cached {
                token: cached.token.clone(),
                refresh_at: Instant::now(),
            })));
        }
    }

    fn fresh(&self) -> Option<OAuthAccessToken> {
        self.current
            .load()
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    async fn fetch_counting(
        calls: &AtomicUsize,
        lifetime: Duration,
    ) -> Result<(OAuthAccessToken, Duration), VendorError> {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        // A slow vendor, so concurrent callers really overlap.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok((OAuthAccessToken::new(format!("token-{n}")), lifetime))
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_on_a_cold_cache_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get(|| fetch_counting(&calls, Duration::from_secs(3600)))
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().expose(), "token-0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_token_is_refreshed_a_margin_before_expiry() {
        let cache = TokenCache::default();
        let calls = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        cache.get(|| fetch_counting(&calls, hour)).await.unwrap();
        tokio::time::advance(hour - REFRESH_MARGIN - Duration::from_secs(1)).await;
        let token = cache.get(|| fetch_counting(&calls, hour)).await.unwrap();
        assert_eq!(token.expose(), "token-0");
        tokio::time::advance(Duration::from_secs(1)).await;
        let token = cache.get(|| fetch_counting(&calls, hour)).await.unwrap();
        assert_eq!(token.expose(), "token-1");
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_lifetime_is_clamped() {
        let cache = TokenCache::default();
        let calls = AtomicUsize::new(0);
        cache
            .get(|| fetch_counting(&calls, Duration::ZERO))
            .await
            .unwrap();
        // Clamped to 30 s with a 15 s margin: still cached 14 s later.
        tokio::time::advance(Duration::from_secs(14)).await;
        cache
            .get(|| fetch_counting(&calls, Duration::ZERO))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_invalidated_token_is_fetched_again() {
        let cache = TokenCache::default();
        let calls = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        let first = cache.get(|| fetch_counting(&calls, hour)).await.unwrap();
        cache.invalidate(&first);
        let second = cache.get(|| fetch_counting(&calls, hour)).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_fetch_is_not_cached() {
        let cache = TokenCache::default();
        let failed = cache
            .get(|| async {
                Err(VendorError::Unavailable {
                    reason: "down".into(),
                    retry_after: None,
                })
            })
            .await;
        assert!(failed.is_err());
        let calls = AtomicUsize::new(0);
        cache
            .get(|| fetch_counting(&calls, Duration::from_secs(3600)))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
