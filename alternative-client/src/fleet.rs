//! How a [`VendorClient`] takes its turns under the vendor's quota and gets
//! its OAuth token: on its own, or — with [`VendorClient::in_fleet`]
//! — as one instance of a fleet sharing both through Redis, and on its own
//! share while Redis cannot be reached.

use std::time::Duration;

use fleet_redis::{Lease, Lookup};

use crate::client::VendorClient;
use crate::error::VendorError;
use crate::fleet_state::FleetState;
use crate::quota::{Busy, Quota};
use crate::retry::retrying;
use crate::secret::OAuthAccessToken;
use crate::token_cache::fresh_for;

impl VendorClient {
    /// Shares the quota and the OAuth token with every other instance
    /// given the same Redis and key prefix: the vendor sees one client
    /// within its quota, and one OAuth request per token lifetime. This
    /// instance's own quota becomes its share for when Redis is down:
    /// `requests_per_second / instances`, at least one a second.
    pub fn in_fleet(mut self, shared: FleetState) -> Self {
        let per_second = self.config.requests_per_second;
        let whole = Quota::under_vendor(per_second).limit();
        if per_second > 0 {
            self.quota = Quota::under_vendor((per_second / shared.instances()).max(1));
        }
        self.shared = Some(shared.for_client(&self.config.client_id, whole));
        self
    }

    /// Waits for a call's turn under the quota, or says how long until one
    /// would fit. `caller` is whom the call is for (the fair share).
    pub(crate) async fn turn(&self, caller: &str) -> Result<(), Busy> {
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
        if self
            .shared
            .as_ref()
            .is_some_and(FleetState::take_new_outage)
        {
            self.quota.drain();
        }
        self.quota.acquire(caller).await
    }

    /// The fleet's turn, `None` without a fleet or while Redis is down.
    async fn shared_turn(&self, caller: &str) -> Option<Result<Duration, Busy>> {
        let shared = self.shared.as_ref()?;
        if self.config.requests_per_second == 0 {
            return None;
        }
        shared.reserve(caller).await
    }

    /// A new OAuth token and how long it stays fresh: the fleet's, if
    /// another instance fetched it; else fetched here (by one instance of
    /// the fleet at a time, the others waiting to read it).
    pub(crate) async fn fleet_oauth_token(
        &self,
    ) -> Result<(OAuthAccessToken, Duration), VendorError> {
        if let Some(shared) = &self.shared {
            if let Some(found) = self.shared_oauth_token(shared).await {
                return found;
            }
        }
        let (token, lifetime) = retrying(|| self.fetch_oauth_token()).await?;
        Ok((token, fresh_for(lifetime)))
    }

    /// `None` if Redis cannot say (or another instance held the right to
    /// fetch for longer than it may): then this instance fetches its own.
    async fn shared_oauth_token(
        &self,
        shared: &FleetState,
    ) -> Option<Result<(OAuthAccessToken, Duration), VendorError>> {
        let give_up = tokio::time::Instant::now() + crate::fleet_state::OAUTH_LOCK;
        loop {
            match shared.oauth_token().await {
                Lookup::Found(found) => return Some(Ok(found)),
                Lookup::Unknown => return None,
                Lookup::Missing => {}
            }
            let holder = match shared.lease_oauth().await {
                // Published between that read and this lease (the holder
                // before gives its lease up as it publishes): then it is
                // there now, and the vendor is not asked again.
                Lease::Held(holder) => match shared.oauth_token().await {
                    Lookup::Found(found) => {
                        shared.release_oauth(holder).await;
                        return Some(Ok(found));
                    }
                    _ => holder,
                },
                Lease::Unknown => return None,
                // Another instance is fetching it: read it when it is in.
                Lease::Elsewhere if tokio::time::Instant::now() < give_up => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Lease::Elsewhere => return None,
            };
            return Some(match retrying(|| self.fetch_oauth_token()).await {
                Ok((token, lifetime)) => {
                    let fresh = fresh_for(lifetime);
                    shared.publish_oauth(holder, &token, fresh).await;
                    Ok((token, fresh))
                }
                Err(error) => {
                    shared.release_oauth(holder).await;
                    Err(error)
                }
            });
        }
    }

    /// Forgets `token`, here and in the fleet: the vendor refused it.
    pub(crate) async fn forget_oauth(&self, token: &OAuthAccessToken) {
        self.oauth.invalidate(token);
        if let Some(shared) = &self.shared {
            shared.forget_oauth(token).await;
        }
    }
}
