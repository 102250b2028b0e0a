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
//! instances ([`Shared::new`]), and an OAuth token of its own. The outage
//! rule is [`fleet_redis`]'s (calls answer at once while Redis rests, it is
//! tried again every second, the outage is logged); each call made without
//! Redis is counted here ([`crate::metrics::SHARED_FALLBACKS`]), and the
//! client goes back to the shared state by itself.

use std::time::Duration;

use fleet_redis::redis::{self, Script};
use fleet_redis::FleetRedis;

use crate::metrics::SHARED_FALLBACKS;
use crate::quota::Busy;
use crate::secret::OAuthAccessToken;

/// How long one instance may hold the right to fetch the fleet's OAuth
/// token: the vendor call's own timeout (5 s) with its retries. If the
/// holder dies, another instance takes over after it.
pub(crate) const OAUTH_LOCK: Duration = Duration::from_secs(15);

/// The fleet's Redis, for the state the instances of one merchant share.
#[derive(Debug)]
pub struct Shared {
    redis: FleetRedis,
    /// `{<client id>}:` after the fleet's prefix: every key of one API key
    /// under one hash tag. Set by [`crate::VendorClient::shared_through`].
    api_key: String,
    instances: u32,
}

/// Why [`Shared::new`] refused.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("the number of instances is at least 1")]
    NoInstances,
}

impl Shared {
    /// State shared through the fleet's `redis` by at most `instances`
    /// instances at once (while Redis is unreachable each takes that share
    /// of the quota). Redis is connected lazily: an instance starts, on its
    /// own share, even while Redis is down.
    pub fn new(redis: FleetRedis, instances: u32) -> Result<Self, SharedError> {
        if instances == 0 {
            return Err(SharedError::NoInstances);
        }
        Ok(Self {
            redis,
            api_key: String::new(),
            instances,
        })
    }

    /// Scopes the keys to one API key (the client id).
    pub(crate) fn for_client(mut self, client_id: &str) -> Self {
        // Braces would end the hash tag early.
        let client: String = client_id.replace(['{', '}'], "_");
        self.api_key = format!("{{{client}}}:");
        self
    }

    /// How many instances share the quota.
    pub(crate) fn instances(&self) -> u32 {
        self.instances
    }

    fn key(&self, name: &str) -> String {
        self.redis.key(&format!("{}{name}", self.api_key))
    }

    /// Runs `script` unless Redis is resting after a failure; `None` (and
    /// counted as a fallback of `part`) if it is, or fails now.
    async fn run<T: redis::FromRedisValue>(
        &self,
        part: &'static str,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Option<T> {
        let value = self
            .redis
            .run(part, |mut connection| async move {
                let mut invocation = script.prepare_invoke();
                for key in keys {
                    invocation.key(key);
                }
                for arg in args {
                    invocation.arg(arg);
                }
                invocation.invoke_async(&mut connection).await
            })
            .await;
        if value.is_none() {
            metrics::counter!(SHARED_FALLBACKS, "part" => part).increment(1);
        }
        value
    }

    /// Whether Redis went away since this was last asked: the instance's
    /// own share then starts spent, since the fleet may have used the
    /// vendor's whole quota just before.
    pub(crate) fn take_new_outage(&self) -> bool {
        self.redis.take_new_outage()
    }

    /// A turn under the fleet's quota for `caller`: `Some(Ok(wait))` to go
    /// after `wait`, `Some(Err(busy))` to refuse, `None` if Redis is down.
    /// The same rule as [`crate::parts::Quota`], kept in Redis.
    pub(crate) async fn reserve(
        &self,
        caller: &str,
        interval: Duration,
        tolerance: Duration,
        max_wait: Duration,
        places: usize,
    ) -> Option<Result<Duration, Busy>> {
        let keys = [self.key("quota"), self.key(&format!("waiting:{caller}"))];
        let args = [
            interval.as_millis().to_string(),
            tolerance.as_millis().to_string(),
            max_wait.as_millis().to_string(),
            places.to_string(),
            // A member of the caller's queue, unique to this call.
            format!("{:016x}", rand::random::<u64>()),
        ];
        let (refused, millis): (i64, i64) = self.run("quota", &RESERVE, &keys, &args).await?;
        let time = Duration::from_millis(u64::try_from(millis).unwrap_or(0));
        Some(if refused == 1 {
            Err(Busy { retry_after: time })
        } else {
            Ok(time)
        })
    }

    /// The fleet's OAuth token and how long it stays fresh, if one is held.
    /// `Some(None)`: none is; `None`: Redis is down.
    pub(crate) async fn oauth_token(&self) -> Option<Option<(OAuthAccessToken, Duration)>> {
        let (token, ttl): (Option<String>, i64) = self
            .run("oauth", &READ_TOKEN, &[self.key("oauth")], &[])
            .await?;
        Some(token.filter(|_| ttl > 0).map(|token| {
            (
                OAuthAccessToken::new(token),
                Duration::from_millis(ttl as u64),
            )
        }))
    }

    /// Takes the fleet's right to fetch the OAuth token, for [`OAUTH_LOCK`]:
    /// `Some(Some(holder))` if this instance has it, `Some(None)` if another
    /// does, `None` if Redis is down.
    pub(crate) async fn lock_oauth(&self) -> Option<Option<String>> {
        let holder = format!("{:016x}", rand::random::<u64>());
        let taken: i64 = self
            .run(
                "oauth",
                &LOCK,
                &[self.key("oauth:lock")],
                &[holder.clone(), OAUTH_LOCK.as_millis().to_string()],
            )
            .await?;
        Some((taken == 1).then_some(holder))
    }

    /// Stores the fleet's new OAuth token, fresh for `fresh_for`, and gives
    /// up the right to fetch (if `holder` still has it).
    pub(crate) async fn store_oauth(
        &self,
        token: &OAuthAccessToken,
        fresh_for: Duration,
        holder: &str,
    ) {
        let _: Option<i64> = self
            .run(
                "oauth",
                &STORE_TOKEN,
                &[self.key("oauth"), self.key("oauth:lock")],
                &[
                    token.expose().to_owned(),
                    fresh_for.as_millis().max(1).to_string(),
                    holder.to_owned(),
                ],
            )
            .await;
    }

    /// Gives up the right to fetch, if `holder` still has it (its fetch
    /// failed: another instance may try at once, not after [`OAUTH_LOCK`]).
    pub(crate) async fn unlock_oauth(&self, holder: &str) {
        let _: Option<i64> = self
            .run(
                "oauth",
                &UNLOCK,
                &[self.key("oauth:lock")],
                &[holder.to_owned()],
            )
            .await;
    }

    /// Forgets the fleet's OAuth token if it is still `token` (the vendor
    /// refused it); a newer one stays.
    pub(crate) async fn forget_oauth(&self, token: &OAuthAccessToken) {
        let _: Option<i64> = self
            .run(
                "oauth",
                &FORGET_TOKEN,
                &[self.key("oauth")],
                &[token.expose().to_owned()],
            )
            .await;
    }
}

/// GCRA in Redis, as `Quota::acquire` does it in memory. KEYS[1]: the
/// bucket (the next call's theoretical time, ms), kept an hour after its
/// last use; KEYS[2]: the caller's places in the queue (a sorted set of
/// their go times). ARGV: interval, tolerance, longest wait (ms), places per
/// caller, a member id. Returns {0, wait ms} or {1, retry-after ms}.
///
/// A bucket Redis does not hold — it restarted empty, or nobody called for
/// an hour — starts spent, not full: the vendor may still be counting the
/// calls the instances made meanwhile on their own shares.
static RESERVE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_wait, places = tonumber(ARGV[3]), tonumber(ARGV[4])
local at = tonumber(redis.call('GET', KEYS[1])) or (now + tolerance)
if at < now then at = now end
local wait = at - now - tolerance
if wait < 0 then wait = 0 end
if wait > max_wait then return {1, wait} end
if wait > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= places then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    local retry = tonumber(first[2]) - now
    if retry < 1 then retry = 1 end
    return {1, retry}
  end
  redis.call('ZADD', KEYS[2], now + wait, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], wait + 1000)
end
redis.call('SET', KEYS[1], at + interval, 'PX', 3600000)
return {0, wait}
",
    )
});

static READ_TOKEN: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new("return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}")
});

static LOCK: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0",
    )
});

static STORE_TOKEN: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
",
    )
});

static UNLOCK: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});

static FORGET_TOKEN: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});
