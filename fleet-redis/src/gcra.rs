//! The one rate-limit rule of the whole project, GCRA ("generic cell rate
//! algorithm"): a token bucket kept as one timestamp per key, the
//! theoretical arrival time (TAT) of the next call at the steady rate. Up to
//! a burst goes at once, then one call per interval; a call whose turn is
//! further off than `max_wait` is refused with the time after which one
//! would fit, and one that may wait takes one of its caller's `places` in
//! the queue (a fair share: one caller cannot fill the queue everyone
//! shares).
//!
//! Written twice on purpose, and tested against each other
//! (`tests::the_script_decides_as_the_model_does`): [`Gcra::decide`] is the
//! reference model, which an instance's own limits run in memory; [`SCRIPT`]
//! is the same rule in Lua, which a fleet's shared limits run in Redis on
//! Redis's clock (`FleetRedis::gcra`). The vendor quota
//! (`alternative-client`) and the merchant's own limits (`merchant`) are
//! both this rule with other numbers.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use crate::FleetRedis;

/// One limit: its rate, burst and longest wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Between two calls at the steady rate (zero: no limit).
    pub interval: Duration,
    /// How far ahead of now the TAT may run: `(burst - 1) × interval`.
    pub tolerance: Duration,
    /// The longest a call may wait for its turn; zero refuses any wait.
    pub max_wait: Duration,
    /// Places in the queue one caller may hold (meaningful when calls may
    /// wait: `max_wait` above zero).
    pub places: u32,
    /// Whether a key with no TAT starts spent (the vendor may still count
    /// calls made while the shared state was lost) or full.
    pub starts_spent: bool,
}

/// What the rule says of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// It goes after `wait`, taking one of its caller's places in the queue
    /// if `wait` is not zero.
    Go { wait: Duration },
    /// Over the limit: a retry would fit after this long.
    Refuse { retry_after: Duration },
}

impl Decision {
    /// What [`LUA_FUNCTION`] returned, `{refused, ms}`, as a decision.
    fn from_lua(refused: i64, ms: i64) -> Self {
        let ms = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        if refused == 1 {
            Self::Refuse { retry_after: ms }
        } else {
            Self::Go { wait: ms }
        }
    }
}

impl Gcra {
    /// `per_interval` calls per `per`, in bursts of up to `burst`, with
    /// no wait: over the limit is refused at once.
    pub fn refusing(per_interval: u32, per: Duration, burst: u32) -> Self {
        let interval = per / per_interval.max(1);
        Self {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            max_wait: Duration::ZERO,
            places: 0,
            starts_spent: false,
        }
    }

    /// No limit at all.
    pub fn off() -> Self {
        Self::refusing(1, Duration::ZERO, 1)
    }

    pub fn is_off(&self) -> bool {
        self.interval.is_zero()
    }

    /// The interval in whole ms, rounded up: at 3 a second, 334 ms, so
    /// that a limit kept in ms never lets through more than its rate.
    pub fn interval_ms(&self) -> u64 {
        u64::try_from(self.interval.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }

    /// The tolerance in whole ms, rounded down (the burst never grows).
    pub fn tolerance_ms(&self) -> u64 {
        millis(self.tolerance)
    }

    /// The limit as [`LUA_FUNCTION`] takes it, in its order: interval,
    /// tolerance, max wait (ms), places, starts spent (0 or 1).
    pub fn lua_args(&self) -> [u64; 5] {
        [
            self.interval_ms(),
            self.tolerance_ms(),
            millis(self.max_wait),
            u64::from(self.places),
            u64::from(self.starts_spent),
        ]
    }

    /// The rule, for a key whose TAT is `tat` (ms; `None`: none kept) at
    /// `now` (ms), its caller's places in the queue going at `places` (ms,
    /// earliest first; those gone by `now` no longer count). With the
    /// decision, the key's new TAT if the call goes.
    pub fn decide(&self, tat: Option<u64>, now: u64, places: &[u64]) -> (Decision, Option<u64>) {
        let (interval, tolerance) = (self.interval_ms(), self.tolerance_ms());
        let start = if self.starts_spent {
            now + tolerance
        } else {
            now
        };
        let at = tat.unwrap_or(start).max(now);
        let wait = (at - now).saturating_sub(tolerance);
        if wait > millis(self.max_wait) {
            let retry_after = Duration::from_millis(wait);
            return (Decision::Refuse { retry_after }, None);
        }
        if wait > 0 {
            // No places: no queue, so no waiting either.
            if self.places == 0 {
                let retry_after = Duration::from_millis(wait);
                return (Decision::Refuse { retry_after }, None);
            }
            let held = places.iter().filter(|&&goes| goes > now);
            let first = held.clone().next();
            if held.count() >= self.places as usize {
                // The earliest of its places frees up first.
                let first = first.map_or(1, |&goes| goes - now);
                let retry_after = Duration::from_millis(first.max(1));
                return (Decision::Refuse { retry_after }, None);
            }
        }
        let wait = Duration::from_millis(wait);
        (Decision::Go { wait }, Some(at + interval))
    }
}

/// A member id for a caller's place in a queue, unique to one call.
pub fn member() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The rule in Lua, as a function other scripts include (a mint's one
/// round trip, `merchant`, runs two limits and more in one script):
/// `gcra(tat_key, places_key, limit, member, now)` with `limit` the table
/// [`Gcra::lua_args`] fills (interval, tolerance, max wait, places in ms and
/// a count; starts spent, 0 or 1) and `now` in ms. The TAT is kept until it
/// no longer says anything (an hour at most); the places are a sorted set
/// of when each goes. Returns `{0, wait ms}` or `{1, retry-after ms}`.
pub const LUA_FUNCTION: &str = r"
local function gcra(tat_key, places_key, limit, member, now)
  local interval, tolerance = limit[1], limit[2]
  local max_wait, places, spent = limit[3], limit[4], limit[5] == 1
  local start = now
  if spent then start = now + tolerance end
  local at = tonumber(redis.call('GET', tat_key)) or start
  if at < now then at = now end
  local wait = at - now - tolerance
  if wait < 0 then wait = 0 end
  if wait > max_wait then return {1, wait} end
  if wait > 0 and places == 0 then return {1, wait} end
  if wait > 0 then
    redis.call('ZREMRANGEBYSCORE', places_key, '-inf', now)
    if redis.call('ZCARD', places_key) >= places then
      local first = redis.call('ZRANGE', places_key, 0, 0, 'WITHSCORES')
      local retry = tonumber(first[2]) - now
      if retry < 1 then retry = 1 end
      return {1, retry}
    end
    redis.call('ZADD', places_key, now + wait, member)
    redis.call('PEXPIRE', places_key, wait + 1000)
  end
  -- A key that starts full says nothing once its TAT is past: it goes then.
  -- One that starts spent is kept an hour after its last use.
  local keep = 3600000
  if not spent then keep = at + interval - now + 1 end
  redis.call('SET', tat_key, at + interval, 'PX', keep)
  return {0, wait}
end

-- Redis's own clock, in ms: every instance of a fleet shares it.
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
";

/// The rule alone: `KEYS[1]` the TAT, `KEYS[2]` the caller's places;
/// `ARGV[1..5]` the limit ([`Gcra::lua_args`]), `ARGV[6]` a member id
/// unique to this call, `ARGV[7]` now (ms; empty: Redis's clock).
pub static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LUA_FUNCTION}
local limit = {{}}
for i = 1, 5 do limit[i] = tonumber(ARGV[i]) end
local now = tonumber(ARGV[7]) or redis_now()
return gcra(KEYS[1], KEYS[2], limit, ARGV[6], now)
"
    ))
});

/// Gives one call back (a limit on failures: the call succeeded): moves the
/// TAT back by `ARGV[1]` ms, keeping its expiry.
static REFUND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local at = tonumber(redis.call('GET', KEYS[1]))
if at then redis.call('SET', KEYS[1], at - tonumber(ARGV[1]), 'KEEPTTL') end
return 1
",
    )
});

/// 1 if nothing is counted against the key now (its TAT is not ahead).
static IS_CLEAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(redis.call('GET', KEYS[1]))
if not at or at <= now then return 1 end
return 0
",
    )
});

impl FleetRedis {
    /// `limit`'s decision for the key named `key` (and its caller's
    /// places, `queue`), in Redis; `None` if Redis cannot say (counted as
    /// a fallback of `part`).
    pub async fn gcra(
        &self,
        part: &'static str,
        limit: &Gcra,
        key: &str,
        queue: &str,
    ) -> Option<Decision> {
        self.gcra_at(part, limit, key, queue, None).await
    }

    /// [`Self::gcra`] at `now` (ms) instead of Redis's clock: for tests.
    pub(crate) async fn gcra_at(
        &self,
        part: &'static str,
        limit: &Gcra,
        key: &str,
        queue: &str,
        now: Option<u64>,
    ) -> Option<Decision> {
        let mut invocation = SCRIPT.key(self.key(key));
        invocation
            .key(self.key(queue))
            .arg(&limit.lua_args()[..])
            .arg(member())
            .arg(now.map(|n| n.to_string()).unwrap_or_default());
        let (refused, ms): (i64, i64) = self
            .run(part, |mut redis| async move {
                invocation.invoke_async(&mut redis).await
            })
            .await?;
        Some(Decision::from_lua(refused, ms))
    }

    /// Gives back one call `limit` counted for `key`; `false` if Redis
    /// cannot say.
    pub async fn gcra_refund(&self, part: &'static str, limit: &Gcra, key: &str) -> bool {
        let mut invocation = REFUND.key(self.key(key));
        invocation.arg(limit.interval_ms());
        let done: Option<i64> = self
            .run(part, |mut redis| async move {
                invocation.invoke_async(&mut redis).await
            })
            .await;
        done.is_some()
    }

    /// Whether nothing is counted against `key` now; `None` if Redis
    /// cannot say.
    pub async fn gcra_is_clear(&self, part: &'static str, key: &str) -> Option<bool> {
        let invocation = IS_CLEAR.key(self.key(key));
        let clear: i64 = self
            .run(part, |mut redis| async move {
                invocation.invoke_async(&mut redis).await
            })
            .await?;
        Some(clear == 1)
    }
}

#[cfg(test)]
mod tests;
