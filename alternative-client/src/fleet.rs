//! How a [`VendorClient`] takes its turns under the vendor's quota and gets
//! its OAuth token: on its own, or — with [`VendorClient::shared_through`]
//! (feature `redis`) — as one instance of a fleet sharing both through
//! Redis, and on its own share while Redis cannot be reached.

use std::time::Duration;

use crate::client::VendorClient;
use crate::error::VendorError;
use crate::quota::Busy;
use crate::retry::retrying;
use crate::secret::OAuthAccessToken;
use crate::token_cache::fresh_for;

impl VendorClient {
    /// Shares the quota and the OAuth token with every other instance
    /// given the same Redis and key prefix: the vendor sees one client
    /// within its quota, and one OAuth request per token lifetime. This
    /// instance's own quota becomes its share for when Redis is down:
    /// `requests_per_second / instances`, at least one a second.
    #[cfg(feature = "redis")]
    pub fn shared_through(mut self, shared: crate::shared::Shared) -> Self {
        let per_second = self.config.requests_per_second;
        if per_second > 0 {
            let share = (per_second / shared.instances()).max(1);
            self.quota = crate::quota::Quota::new(
                share,
                crate::quota::burst_under(share),
                crate::client::MAX_QUOTA_WAIT,
            );
        }
        self.shared = Some(shared.for_client(&self.config.client_id));
        self
    }

    /// Waits for a call's turn under the quota, or says how long until one
    /// would fit. `caller` is whom the call is for (the fair share).
    pub(crate) async fn turn(&self, caller: &str) -> Result<(), Busy> {
        #[cfg(feature = "redis")]
        if let Some(outcome) = self.shared_turn(caller).await {
            let wait = outcome.inspect_err(|_| {
                metrics::counter!(crate::metrics::QUOTA_REFUSALS).increment(1);
            })?;
            if !wait.is_zero() {
                metrics::counter!(crate::metrics::QUOTA_WAITS).increment(1);
                tokio::time::sleep(wait).await;
            }
            return Ok(());
        }
        #[cfg(feature = "redis")]
        if self.shared.as_ref().is_some_and(|s| s.take_new_outage()) {
            self.quota.drain();
        }
        self.quota.acquire(caller).await
    }

    /// The fleet's turn, `None` without a fleet or while Redis is down.
    #[cfg(feature = "redis")]
    async fn shared_turn(&self, caller: &str) -> Option<Result<Duration, Busy>> {
        let shared = self.shared.as_ref()?;
        let per_second = self.config.requests_per_second;
        if per_second == 0 {
            return None;
        }
        // The same bucket as `Quota::new(per_second, burst_under(per_second), …)`.
        let interval = Duration::from_secs(1) / per_second;
        let burst = crate::quota::burst_under(per_second);
        shared
            .reserve(
                caller,
                interval,
                interval * (burst - 1),
                crate::client::MAX_QUOTA_WAIT,
                crate::quota::MAX_WAITING_PER_CALLER,
            )
            .await
    }

    /// A new OAuth token and how long it stays fresh: the fleet's, if
    /// another instance fetched it; else fetched here (by one instance of
    /// the fleet at a time, the others waiting to read it).
    pub(crate) async fn fleet_oauth_token(
        &self,
    ) -> Result<(OAuthAccessToken, Duration), VendorError> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            if let Some(found) = self.shared_oauth_token(shared).await {
                return found;
            }
        }
        let (token, lifetime) = retrying(|| self.fetch_oauth_token()).await?;
        Ok((token, fresh_for(lifetime)))
    }

    /// `None` if Redis went away (or another instance held the right to
    /// fetch for longer than it may): then this instance fetches its own.
    #[cfg(feature = "redis")]
    async fn shared_oauth_token(
        &self,
        shared: &crate::shared::Shared,
    ) -> Option<Result<(OAuthAccessToken, Duration), VendorError>> {
        let give_up = tokio::time::Instant::now() + crate::shared::OAUTH_LOCK;
        loop {
            if let Some(found) = shared.oauth_token().await? {
                return Some(Ok(found));
            }
            let Some(holder) = shared.lock_oauth().await? else {
                // Another instance is fetching it: read it when it is in.
                if tokio::time::Instant::now() >= give_up {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            return Some(match retrying(|| self.fetch_oauth_token()).await {
                Ok((token, lifetime)) => {
                    let fresh = fresh_for(lifetime);
                    shared.store_oauth(&token, fresh, &holder).await;
                    Ok((token, fresh))
                }
                Err(error) => {
                    shared.unlock_oauth(&holder).await;
                    Err(error)
                }
            });
        }
    }

    /// Forgets `token`, here and in the fleet: the vendor refused it.
    pub(crate) async fn forget_oauth(&self, token: &OAuthAccessToken) {
        self.oauth.invalidate(token);
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            shared.forget_oauth(token).await;
        }
    }
}
