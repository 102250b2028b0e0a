//! Per-key rate limits for the merchant's own endpoints (per session, per
//! client address, per login email): [`fleet_redis::Gcra`] per key,
//! refusing at once with the time after which the next request would be
//! allowed.
//!
//! On one instance the limits live in memory. A fleet shares them through
//! Redis ([`Limits::in_fleet`]): the same rule, its Lua twin run on
//! Redis's clock, so N instances do not give a guesser N times the tries.
//! The keys hold no email or address, only a hash of it. While Redis cannot
//! be reached each instance counts alone (`crate::fleet`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use fleet_redis::{Decision, Gcra};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::fleet::FleetRedis;

pub struct KeyedLimiter {
    limit: Gcra,
    /// Where this limiter's clock starts: times are kept as ms since then.
    origin: Instant,
    /// Each key's theoretical arrival time (ms), on this instance.
    tat: Mutex<HashMap<String, u64>>,
    /// With a fleet: the limit every instance shares, and its name there.
    shared: Option<(FleetRedis, &'static str)>,
}

impl KeyedLimiter {
    /// `per_minute` requests a minute, in bursts of up to `burst`.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        Self::with(Gcra::refusing(per_minute, Duration::from_secs(60), burst))
    }

    /// No limit at all: for load benchmarks, which send thousands of
    /// requests a second from one address (`MERCHANT_RATE_LIMITS=off`).
    pub fn off() -> Self {
        Self::with(Gcra::off())
    }

    fn with(limit: Gcra) -> Self {
        Self {
            limit,
            origin: Instant::now(),
            tat: Mutex::default(),
            shared: None,
        }
    }

    /// The same limit for every instance sharing `redis`, as `name`.
    fn shared_as(mut self, redis: &FleetRedis, name: &'static str) -> Self {
        self.shared = Some((redis.clone(), name));
        self
    }

    /// Counts one request for `key`; `Err(wait)` if it is over the limit.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        if self.limit.is_off() {
            return Ok(());
        }
        let decision = match self.shared_key(key) {
            Some((redis, key)) => {
                let queue = queue_name(&key);
                redis.gcra("limits", &self.limit, &key, &queue).await
            }
            None => None,
        };
        match decision.unwrap_or_else(|| self.check_here(key)) {
            Decision::Go { .. } => Ok(()),
            Decision::Refuse { retry_after } => Err(retry_after),
        }
    }

    /// With a fleet, the limit and the names of `key`'s TAT and queue in
    /// Redis, for a caller asking it with other questions in one round
    /// trip (`crate::gate`); `None` if the limit is off or not shared.
    pub(crate) fn in_redis(&self, key: &str) -> Option<(Gcra, String, String)> {
        if self.limit.is_off() {
            return None;
        }
        let (_, name) = self.shared_key(key)?;
        let queue = queue_name(&name);
        Some((self.limit, name, queue))
    }

    /// The shared limit's Redis and the key's name there, with a fleet.
    fn shared_key(&self, key: &str) -> Option<(&FleetRedis, String)> {
        let (redis, name) = self.shared.as_ref()?;
        // The email or address itself never goes to Redis.
        let hashed: String = Sha256::digest(key.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Some((redis, format!("limit:{name}:{hashed}")))
    }

    /// The rule on this instance alone.
    fn check_here(&self, key: &str) -> Decision {
        let now = self.now();
        let mut tats = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if tats.len() > 100_000 {
            // Keys whose allowance is full again carry no information.
            tats.retain(|_, tat| *tat > now);
        }
        let (decision, next) = self.limit.decide(tats.get(key).copied(), now, &[]);
        if let Some(next) = next {
            // The key is copied only the first time it is seen.
            match tats.get_mut(key) {
                Some(tat) => *tat = next,
                None => {
                    tats.insert(key.to_owned(), next);
                }
            }
        }
        decision
    }

    /// Whether `key` has nothing counted against it now (its allowance is
    /// full again), without counting.
    pub async fn is_clear(&self, key: &str) -> bool {
        if let Some((redis, key)) = self.shared_key(key) {
            if let Some(clear) = redis.gcra_is_clear("limits", &key).await {
                return clear;
            }
        }
        let tats = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        tats.get(key).is_none_or(|tat| *tat <= self.now())
    }

    /// Gives back the request `check` counted: for limits on failures only
    /// (a successful log-in is not a guess).
    pub async fn refund(&self, key: &str) {
        if let Some((redis, key)) = self.shared_key(key) {
            if redis.gcra_refund("limits", &self.limit, &key).await {
                return;
            }
        }
        let mut tats = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tat) = tats.get_mut(key) {
            *tat = tat.saturating_sub(self.limit.interval_ms());
        }
    }

    /// Now, in ms since `origin` (tokio's clock, which tests pause).
    fn now(&self) -> u64 {
        Instant::now().duration_since(self.origin).as_millis() as u64
    }
}

/// The merchant's own limits, one limiter per purpose.
pub struct Limits {
    /// Every server call that may spend vendor quota — a mint, an invoice
    /// read — per session and per client address.
    pub vendor_per_session: KeyedLimiter,
    pub vendor_per_address: KeyedLimiter,
    pub login: LoginLimits,
}

impl Limits {
    /// The same limits for every instance sharing `redis` (each counts
    /// alone while Redis cannot be reached).
    pub fn in_fleet(self, redis: &FleetRedis) -> Self {
        Self {
            vendor_per_session: self.vendor_per_session.shared_as(redis, "vendor-session"),
            vendor_per_address: self.vendor_per_address.shared_as(redis, "vendor-address"),
            login: LoginLimits {
                per_address: self.login.per_address.shared_as(redis, "login-address"),
                per_account: self.login.per_account.shared_as(redis, "login-account"),
                per_account_address: self
                    .login
                    .per_account_address
                    .shared_as(redis, "login-account-address"),
            },
        }
    }

    /// Every limit off (see [`KeyedLimiter::off`]).
    pub fn off() -> Self {
        Self {
            vendor_per_session: KeyedLimiter::off(),
            vendor_per_address: KeyedLimiter::off(),
            login: LoginLimits {
                per_address: KeyedLimiter::off(),
                per_account: KeyedLimiter::off(),
                per_account_address: KeyedLimiter::off(),
            },
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A page load makes two such calls (the summary, the island's
            // token), a token refresh one about every 14 minutes: reloads
            // and a few tabs fit easily in 20 at once and 60 a minute.
            vendor_per_session: KeyedLimiter::per_minute(60, 20),
            // Many users may share an address (an office, a NAT).
            vendor_per_address: KeyedLimiter::per_minute(300, 60),
            login: LoginLimits {
                // Looser (one per second after 30), since an office shares
                // one address, yet a sweep across accounts stays slow.
                per_address: KeyedLimiter::per_minute(60, 30),
                // 5 at once, then one every 12 s: guessing one account's
                // password is hopeless.
                per_account: KeyedLimiter::per_minute(5, 5),
                per_account_address: KeyedLimiter::per_minute(5, 5),
            },
        }
    }
}

/// Failed log-ins, limited so that they slow a guesser without locking the
/// account's owner out.
///
/// A limit per account alone can be turned against the owner: anyone can
/// spend it with wrong passwords, and then the right one is refused too. So
/// when an account's limit is spent, a log-in is still checked if it comes
/// from an address with no recent failure for that account — the owner at
/// their usual address — and refused only from addresses that have been
/// failing on it. A guesser is held to five tries, then one every 12 s,
/// per account and address (and to the per-address limit across accounts);
/// with many addresses they get that much per address, which no limit can
/// take away without locking the owner out as well.
pub struct LoginLimits {
    pub per_address: KeyedLimiter,
    pub per_account: KeyedLimiter,
    pub per_account_address: KeyedLimiter,
}

/// A log-in the limits let through: [`LoginAttempt::succeeded`] gives back
/// what it counted (only failures count); dropped, it stays counted.
#[must_use]
pub struct LoginAttempt<'a> {
    limits: &'a LoginLimits,
    address: String,
    account: Option<String>,
    account_address: String,
}

impl LoginLimits {
    /// Counts a log-in to `account` (the normalised email) from `address`,
    /// or says how long to wait before the next.
    pub async fn attempt(
        &self,
        account: &str,
        address: &str,
    ) -> Result<LoginAttempt<'_>, Duration> {
        let account_address = format!("{account} from {address}");
        let failing_here = !self.per_account_address.is_clear(&account_address).await;
        self.per_address.check(address).await?;
        self.per_account_address.check(&account_address).await?;
        let account = match self.per_account.check(account).await {
            Ok(()) => Some(account.to_owned()),
            // Spent by failures from elsewhere: this address may still try.
            Err(_) if !failing_here => None,
            Err(wait) => return Err(wait),
        };
        Ok(LoginAttempt {
            limits: self,
            address: address.to_owned(),
            account,
            account_address,
        })
    }
}

impl LoginAttempt<'_> {
    /// The password was right: a success is not a guess.
    pub async fn succeeded(self) {
        self.limits.per_address.refund(&self.address).await;
        self.limits
            .per_account_address
            .refund(&self.account_address)
            .await;
        if let Some(account) = &self.account {
            self.limits.per_account.refund(account).await;
        }
    }
}

/// The Redis name of the queue beside the TAT named `tat`: one naming for
/// the limiter's own check and the gate's (`crate::gate`), which must count
/// the same places.
fn queue_name(tat: &str) -> String {
    format!("{tat}:queue")
}

#[cfg(test)]
mod tests;
