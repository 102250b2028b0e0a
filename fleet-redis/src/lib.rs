//! The Redis a fleet of merchant instances shares, reached so that its
//! outage never stops a request. The vendor client (`alternative-client`,
//! the quota and the OAuth token) and the merchant crate
//! (ended sessions, its own limits, token reuse) both go through one
//! [`FleetRedis`], so the rule below is written, and holds, once:
//!
//! - a call that fails, or takes longer than [`REDIS_TIMEOUT`], answers
//!   `None`: the caller goes on with what its instance knows alone;
//! - Redis is then left alone for [`RETRY_AFTER`] (every call in between
//!   answers `None` at once): an outage costs one slow call a second, not
//!   every call;
//! - the outage is logged when it begins and when Redis answers again, but
//!   a Redis that flaps (an overloaded one answering every other call in
//!   time) is logged at most once per [`QUIET_FOR`], not on every flap.
//!
//! Every call made without Redis is counted, by the caller's `part`
//! ([`FALLBACKS`]).
//!
//! On top of it, each mechanism a fleet shares, written once: the rate
//! limit ([`gcra`]: a Lua script and its Rust reference model, tested
//! against each other), and [`Lease`], the right of one instance at a time
//! to do something — fetch a value the others then read ([`FleetRedis::publish`]),
//! or run a background job.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

pub mod gcra;
mod lease;

pub use gcra::{Decision, Gcra};
pub use lease::{Holder, Lease};
/// The `redis` crate this one is built on, for callers' own scripts and
/// commands (one version for the whole fleet's code).
pub use redis;

/// A Redis call slower than this counts as Redis down: requests wait on
/// these calls, so they must be quick or skipped.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Counter: calls made without Redis because it could not be reached (or
/// answered too late), by `part` — the caller's use of it: `quota`,
/// `oauth` (the vendor client), `sessions`, `limits`, `tokens`, `gate`, `catch_up`
/// (the merchant). Each went on with what its instance knows alone.
pub const FALLBACKS: &str = "fleet_redis_fallbacks_total";

/// What Redis says of a value: found, missing, or nothing, because it
/// cannot be reached now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    Missing,
    /// Redis cannot say: the caller goes on with what it knows alone.
    Unknown,
}

/// After Redis failed, this long without it before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The longest an outage stays unlogged once another was logged: a Redis
/// that comes and goes is one line a minute in the log, not one a second.
pub const QUIET_FOR: Duration = Duration::from_secs(60);

/// A fleet's Redis under one key prefix. Cheap to clone: clones share the
/// connection and the outage state.
#[derive(Clone)]
pub struct FleetRedis {
    redis: ConnectionManager,
    prefix: Arc<str>,
    outage: Arc<Outage>,
}

#[derive(Default)]
struct Outage {
    state: Mutex<State>,
    /// Set when an outage begins, taken by [`FleetRedis::take_new_outage`].
    new: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Until when Redis is skipped after a failure.
    down_until: Option<Instant>,
    /// When the last outage was logged: none is again within [`QUIET_FOR`].
    warned_at: Option<Instant>,
    /// An outage was logged and its end has not been.
    warned: bool,
}

impl std::fmt::Debug for FleetRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold Redis's password: it is not kept here at all.
        f.debug_struct("FleetRedis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl FleetRedis {
    /// The Redis at `url` (`redis://[:password@]host:port[/db]`, `rediss://`
    /// for TLS), under keys starting with `key_prefix`. Connects lazily: an
    /// instance starts, and serves, while Redis is down.
    pub fn new(url: &str, key_prefix: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let redis = ConnectionManager::new_lazy_with_config(redis::Client::open(url)?, config)?;
        Ok(Self {
            redis,
            prefix: key_prefix.into(),
            outage: Arc::default(),
        })
    }

    /// `name` under this fleet's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Runs `call` with a connection, unless Redis is resting after a
    /// failure; `None` if it is, or if the call fails or is slow now (and
    /// counted, [`FALLBACKS`]). `part` names the caller's use of Redis in
    /// the count and the log.
    pub async fn run<T, F, Fut>(&self, part: &'static str, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let answer = self.run_uncounted(part, call).await;
        if answer.is_none() {
            metrics::counter!(FALLBACKS, "part" => part).increment(1);
        }
        answer
    }

    async fn run_uncounted<T, F, Fut>(&self, part: &'static str, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self.resting() {
            return None;
        }
        let outcome = tokio::time::timeout(REDIS_TIMEOUT * 2, call(self.redis.clone())).await;
        match outcome {
            Ok(Ok(value)) => {
                self.answered();
                Some(value)
            }
            Ok(Err(error)) => {
                self.failed(&error.to_string(), part);
                None
            }
            Err(_) => {
                self.failed("no answer in time", part);
                None
            }
        }
    }

    /// Whether an outage began since this was last asked (the vendor
    /// client's own share of the quota then starts spent: the fleet may
    /// have used the whole quota just before).
    pub fn take_new_outage(&self) -> bool {
        self.outage.new.swap(false, Ordering::Relaxed)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.outage
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn resting(&self) -> bool {
        self.state()
            .down_until
            .is_some_and(|until| Instant::now() < until)
    }

    fn answered(&self) {
        let mut state = self.state();
        if state.down_until.take().is_some() && state.warned {
            state.warned = false;
            tracing::info!(
                prefix = %self.prefix,
                "Redis answers again: the fleet's state is shared again"
            );
        }
    }

    fn failed(&self, why: &str, part: &'static str) {
        let now = Instant::now();
        let mut state = self.state();
        if state.down_until.is_none() {
            self.outage.new.store(true, Ordering::Relaxed);
            if state.warned_at.is_none_or(|at| now - at >= QUIET_FOR) {
                state.warned_at = Some(now);
                state.warned = true;
                tracing::warn!(
                    prefix = %self.prefix,
                    part,
                    why,
                    "Redis cannot be reached: this instance goes on with what it knows \
                     alone until Redis answers again (tried every second; an outage is \
                     logged at most once a minute)"
                );
            }
        }
        state.down_until = Some(now + RETRY_AFTER);
    }
}

#[cfg(test)]
mod tests;
