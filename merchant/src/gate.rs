//! A mint's questions to a fleet's Redis, asked in one round trip: has the
//! session ended anywhere, do the per-session and per-address limits let
//! the call through, and which token does the fleet hold for the invoice.
//!
//! Asked one by one they cost a mint that reuses a token up to four round
//! trips in a row (two with the limits off), each a trip through the
//! shared connection and its task. Here one script asks them all on
//! Redis's clock, each part's rule written once still: the limits run
//! `fleet_redis`'s GCRA function, the ended-session key and the token key
//! are the ones their own modules read. Measured before and after on a
//! fleet of one (BENCHMARKS.md, "A fleet of one: one round trip per mint").
//!
//! The answer is used only by the request that asked: the session as known
//! live (`sessions::known_live`), the limits as counted, the token read as
//! if [`crate::CheckoutService::mint_with`] had read it itself. Whatever
//! the gate cannot say (no fleet, Redis away, an ended session) leaves each
//! part to ask on its own, as before.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use fleet_redis::gcra;
use fleet_redis::FleetRedis;
use redis::Script;
use tower_sessions::session::Id;

use crate::checkout::{FleetTokens, TokenRead};
use crate::input::InvoiceId;
use crate::limiter::Limits;

/// What one request asks, for one mint.
pub struct Ask<'a> {
    /// The session the request's cookie names (not yet loaded).
    pub session: Id,
    /// The per-session limit's key for it, as the server names it.
    pub session_key: &'a str,
    /// The per-address limit's key.
    pub address_key: &'a str,
    pub invoice_id: &'a InvoiceId,
}

/// What the fleet answered.
#[derive(Debug)]
pub enum Gate {
    /// No fleet, or Redis cannot say now: each part asks on its own.
    AskEach,
    /// The session has ended somewhere in the fleet: nothing was counted,
    /// and the session's own check will say so.
    Ended,
    /// Over a limit: a retry fits after this long.
    Limited(Duration),
    /// The session is live, the limits counted the call, and this is the
    /// fleet's token for the invoice (checked against the customer later).
    Through(TokenRead),
}

/// The gate of one instance: with a fleet, its Redis and the limits it
/// counts there.
pub struct MintGate {
    redis: Option<FleetRedis>,
    limits: Arc<Limits>,
}

impl MintGate {
    /// Without a fleet: every answer is [`Gate::AskEach`].
    pub fn alone(limits: Arc<Limits>) -> Self {
        Self {
            redis: None,
            limits,
        }
    }

    /// For an instance of the fleet sharing `redis` (`limits` already
    /// shared through it, [`Limits::in_fleet`]).
    pub fn in_fleet(redis: FleetRedis, limits: Arc<Limits>) -> Self {
        Self {
            redis: Some(redis),
            limits,
        }
    }

    /// Asks the fleet, in one round trip, what a mint for `ask` needs.
    pub async fn ask(&self, ask: &Ask<'_>) -> Gate {
        let Some(redis) = &self.redis else {
            return Gate::AskEach;
        };
        let mut invocation = SCRIPT.key(crate::sessions::ended_key(redis, &ask.session));
        invocation.key(redis.key(&FleetTokens::name(ask.invoice_id.as_str())));
        let limited = [
            self.limits.vendor_per_session.in_redis(ask.session_key),
            self.limits.vendor_per_address.in_redis(ask.address_key),
        ];
        let mut counted = false;
        for (limit, tat, queue) in limited.iter().flatten() {
            invocation.key(redis.key(tat)).key(redis.key(queue));
            invocation.arg(&limit.lua_args()[..]);
            counted = true;
        }
        if counted {
            invocation.arg(gcra::member());
        }
        let answer: Option<(i64, i64, Option<String>)> = redis
            .run("gate", |mut redis| async move {
                invocation.invoke_async(&mut redis).await
            })
            .await;
        match answer {
            None => Gate::AskEach,
            Some((ENDED, _, _)) => Gate::Ended,
            Some((LIMITED, ms, _)) => {
                Gate::Limited(Duration::from_millis(u64::try_from(ms).unwrap_or(1)))
            }
            Some((_, ttl, value)) => Gate::Through(TokenRead::read(value, ttl)),
        }
    }
}

const ENDED: i64 = 1;
const LIMITED: i64 = 2;

/// `KEYS`: the session's ended mark, the invoice's token, then per limit
/// its TAT and queue; `ARGV`: per limit its five numbers
/// ([`fleet_redis::Gcra::lua_args`]), then a member id (with no limit
/// counted, neither, and Redis's clock is not read). Returns `{1, 0,
/// nil}` (ended), `{2, retry-after ms, nil}` (limited) or `{0, the token's
/// ms to live, the token}`: always three, so one reply type reads them.
static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{}
if redis.call('EXISTS', KEYS[1]) == 1 then return {{1, 0, false}} end
local limits = (#KEYS - 2) / 2
local now = limits > 0 and redis_now()
local member = ARGV[#ARGV]
for l = 0, limits - 1 do
  local limit = {{}}
  for i = 1, 5 do limit[i] = tonumber(ARGV[l * 5 + i]) end
  local d = gcra(KEYS[3 + l * 2], KEYS[4 + l * 2], limit, member, now)
  if d[1] == 1 then return {{2, d[2], false}} end
end
return {{0, redis.call('PTTL', KEYS[2]), redis.call('GET', KEYS[2])}}
",
        gcra::LUA_FUNCTION
    ))
});

#[cfg(test)]
mod tests;
