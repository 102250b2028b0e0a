//! State a fleet of merchant instances shares through Redis (feature
//! `redis`): the vendor's quota, one bucket per API key for the whole fleet,
//! and the OAuth access token, fetched once per lifetime by the fleet.
//!
//! Redis's own clock (`TIME`, inside the scripts) is the fleet's one clock,
//! so instances whose clocks differ still agree on every turn. All keys of
//! one API key share a hash tag (`{…}`): they live on one Redis Cluster
//! slot, as a script that touches several keys needs.
//!
//! While Redis cannot be reached (down, restarting, a network cut) each
//! instance goes on with its own share: the quota divided by the number of
//! instances ([`FleetState::new`]), and an OAuth token of its own. The outage
//! rule is [`fleet_redis`]'s (calls answer at once while Redis rests, it is
//! tried again every second, the outage is logged, each call made without
//! it is counted, [`fleet_redis::FALLBACKS`]), and the client goes back to
//! the shared state by itself. The mechanisms are `fleet_redis`'s too: the
//! quota is its [`Gcra`] in Redis, the token's single flight its [`Lease`].

use std::time::Duration;

use fleet_redis::redis::Script;
use fleet_redis::{Decision, FleetRedis, Gcra, Holder, Lease, Lookup};

use crate::quota::Busy;
use crate::secret::OAuthAccessToken;

/// How long one instance may hold the right to fetch the fleet's OAuth
/// token: the vendor call's own timeout (5 s) with its retries. If the
/// holder dies, another instance takes over after it.
pub(crate) const OAUTH_LOCK: Duration = Duration::from_secs(15);

/// The fleet's Redis, for the state the instances of one merchant share.
#[derive(Debug)]
pub struct FleetState {
    redis: FleetRedis,
    /// `{<client id>}:` after the fleet's prefix: every key of one API key
    /// under one hash tag. Set by [`crate::VendorClient::in_fleet`].
    api_key: String,
    instances: u32,
    /// The vendor's whole quota, for the fleet (set with the client id).
    quota: Gcra,
}

/// Why [`FleetState::new`] refused.
#[derive(Debug, thiserror::Error)]
pub enum FleetStateError {
    #[error("the number of instances is at least 1")]
    NoInstances,
}

impl FleetState {
    /// State shared through the fleet's `redis` by at most `instances`
    /// instances at once (while Redis is unreachable each takes that share
    /// of the quota). Redis is connected lazily: an instance starts, on its
    /// own share, even while Redis is down.
    pub fn new(redis: FleetRedis, instances: u32) -> Result<Self, FleetStateError> {
        if instances == 0 {
            return Err(FleetStateError::NoInstances);
        }
        Ok(Self {
            redis,
            api_key: String::new(),
            instances,
            quota: Gcra::off(),
        })
    }

    /// Scopes the keys to one API key (the client id), whose whole quota
    /// is `quota`.
    pub(crate) fn for_client(mut self, client_id: &str, quota: Gcra) -> Self {
        // Braces would end the hash tag early.
        let client: String = client_id.replace(['{', '}'], "_");
        self.api_key = format!("{{{client}}}:");
        // A bucket Redis does not hold (it restarted empty, or nobody called
        // for an hour) starts spent, not full: the vendor may still be
        // counting the calls the instances made meanwhile on their shares.
        self.quota = Gcra {
            starts_spent: true,
            ..quota
        };
        self
    }

    /// How many instances share the quota.
    pub(crate) fn instances(&self) -> u32 {
        self.instances
    }

    /// `name` among this API key's (the fleet's prefix is added by Redis's side).
    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.api_key)
    }

    /// Whether Redis went away since this was last asked: the instance's
    /// own share then starts spent, since the fleet may have used the
    /// vendor's whole quota just before.
    pub(crate) fn take_new_outage(&self) -> bool {
        self.redis.take_new_outage()
    }

    /// A turn under the fleet's quota for `caller`: `Some(Ok(wait))` to go
    /// after `wait`, `Some(Err(busy))` to refuse, `None` if Redis cannot say.
    /// The rule is [`Gcra`], kept in Redis on its clock.
    pub(crate) async fn reserve(&self, caller: &str) -> Option<Result<Duration, Busy>> {
        let queue = self.name(&format!("waiting:{caller}"));
        let decision = self
            .redis
            .gcra("quota", &self.quota, &self.name("quota"), &queue)
            .await?;
        Some(match decision {
            Decision::Go { wait } => Ok(wait),
            Decision::Refuse { retry_after } => Err(Busy { retry_after }),
        })
    }

    /// The fleet's OAuth token and how long it stays fresh, if one is held.
    pub(crate) async fn oauth_token(&self) -> Lookup<(OAuthAccessToken, Duration)> {
        match self.redis.read("oauth", &self.name("oauth")).await {
            Lookup::Found((token, fresh_for)) => {
                Lookup::Found((OAuthAccessToken::new(token), fresh_for))
            }
            Lookup::Missing => Lookup::Missing,
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// The fleet's right to fetch the OAuth token, for [`OAUTH_LOCK`].
    pub(crate) async fn lease_oauth(&self) -> Lease {
        self.redis
            .lease("oauth", &self.name("oauth"), OAUTH_LOCK)
            .await
    }

    /// Stores the fleet's new OAuth token, fresh for `fresh_for`, and gives
    /// up the right to fetch (if `holder` still has it).
    pub(crate) async fn publish_oauth(
        &self,
        holder: Holder,
        token: &OAuthAccessToken,
        fresh_for: Duration,
    ) {
        self.redis
            .publish(
                "oauth",
                holder,
                &self.name("oauth"),
                token.expose(),
                fresh_for,
            )
            .await;
    }

    /// Gives up the right to fetch (its fetch failed: another instance may
    /// try at once, not after [`OAUTH_LOCK`]).
    pub(crate) async fn release_oauth(&self, holder: Holder) {
        self.redis.release("oauth", holder).await;
    }

    /// Forgets the fleet's OAuth token if it is still `token` (the vendor
    /// refused it); a newer one stays.
    pub(crate) async fn forget_oauth(&self, token: &OAuthAccessToken) {
        let key = self.redis.key(&self.name("oauth"));
        let token = token.expose().to_owned();
        let _: Option<i64> = self
            .redis
            .run("oauth", |mut redis| async move {
                FORGET_TOKEN
                    .key(key)
                    .arg(token)
                    .invoke_async(&mut redis)
                    .await
            })
            .await;
    }
}

static FORGET_TOKEN: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});
