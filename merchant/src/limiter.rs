//! Per-key rate limits for the merchant's own endpoints (per session, per
//! client address, per login email): a GCRA per key, refusing at once with
//! the time after which the next request would be allowed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

pub struct KeyedLimiter {
    interval: Duration,
    tolerance: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl KeyedLimiter {
    /// `per_minute` requests a minute, in bursts of up to `burst`.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let interval = Duration::from_secs(60) / per_minute.max(1);
        Self {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            next: Mutex::default(),
        }
    }

    /// No limit at all: for load benchmarks, which send thousands of
    /// requests a second from one address (`MERCHANT_RATE_LIMITS=off`).
    pub fn off() -> Self {
        Self {
            interval: Duration::ZERO,
            tolerance: Duration::ZERO,
            next: Mutex::default(),
        }
    }

    /// Counts one request for `key`; `Err(wait)` if it is over the limit.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if self.interval.is_zero() {
            return Ok(());
        }
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if next.len() > 100_000 {
            // Keys whose allowance is full again carry no information.
            next.retain(|_, at| *at > now);
        }
        let at = next.get(key).map_or(now, |at| (*at).max(now));
        let wait = at.duration_since(now).saturating_sub(self.tolerance);
        if !wait.is_zero() {
            return Err(wait);
        }
        // The key is copied only the first time it is seen.
        match next.get_mut(key) {
            Some(slot) => *slot = at + self.interval,
            None => {
                next.insert(key.to_owned(), at + self.interval);
            }
        }
        Ok(())
    }

    /// Whether `key` has nothing counted against it now (its allowance is
    /// full again), without counting.
    pub fn is_clear(&self, key: &str) -> bool {
        let next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        next.get(key).is_none_or(|at| *at <= Instant::now())
    }

    /// Gives back the request `check` counted: for limits on failures only
    /// (a successful log-in is not a guess).
    pub fn refund(&self, key: &str) {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = next.get_mut(key) {
            *at = at.checked_sub(self.interval).unwrap_or(*at);
        }
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
    pub fn attempt(&self, account: &str, address: &str) -> Result<LoginAttempt<'_>, Duration> {
        let account_address = format!("{account} from {address}");
        let failing_here = !self.per_account_address.is_clear(&account_address);
        self.per_address.check(address)?;
        self.per_account_address.check(&account_address)?;
        let account = match self.per_account.check(account) {
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
    pub fn succeeded(self) {
        self.limits.per_address.refund(&self.address);
        self.limits
            .per_account_address
            .refund(&self.account_address);
        if let Some(account) = &self.account {
            self.limits.per_account.refund(account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_steady_rate_per_key() {
        let limiter = KeyedLimiter::per_minute(60, 3);
        for _ in 0..3 {
            limiter.check("a").unwrap();
        }
        assert_eq!(limiter.check("a"), Err(Duration::from_secs(1)));
        limiter.check("b").unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        limiter.check("a").unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn refunded_requests_do_not_count() {
        let limiter = KeyedLimiter::per_minute(60, 2);
        for _ in 0..10 {
            limiter.check("a").unwrap();
            limiter.refund("a");
        }
        limiter.check("a").unwrap();
        limiter.check("a").unwrap();
        assert!(limiter.check("a").is_err());
    }

    fn login() -> LoginLimits {
        Limits::default().login
    }

    #[tokio::test(start_paused = true)]
    async fn a_guesser_at_one_address_is_held_to_five_tries_then_one_every_12_s() {
        let limits = login();
        for _ in 0..5 {
            drop(limits.attempt("bob@example.com", "addr:attacker").unwrap());
        }
        let wait = limits.attempt("bob@example.com", "addr:attacker").err();
        assert_eq!(wait, Some(Duration::from_secs(12)));
        tokio::time::advance(Duration::from_secs(12)).await;
        drop(limits.attempt("bob@example.com", "addr:attacker").unwrap());
        assert!(limits.attempt("bob@example.com", "addr:attacker").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn guesses_from_elsewhere_do_not_lock_the_owner_out() {
        let limits = login();
        // Five addresses spend the account's limit…
        for n in 0..5 {
            drop(
                limits
                    .attempt("bob@example.com", &format!("addr:{n}"))
                    .unwrap(),
            );
        }
        // …so every one of them that tries again is refused…
        assert!(limits.attempt("bob@example.com", "addr:0").is_err());
        // …but the owner, at an address with no failure, is still checked.
        limits
            .attempt("bob@example.com", "addr:owner")
            .unwrap()
            .succeeded();
        limits
            .attempt("bob@example.com", "addr:owner")
            .unwrap()
            .succeeded();
        // A wrong password there makes that address a failing one too.
        drop(limits.attempt("bob@example.com", "addr:owner").unwrap());
        assert!(limits.attempt("bob@example.com", "addr:owner").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn successful_log_ins_count_against_nothing() {
        let limits = login();
        for _ in 0..100 {
            limits
                .attempt("alice@example.com", "addr:a")
                .unwrap()
                .succeeded();
        }
        assert!(limits.per_address.is_clear("addr:a"));
    }
}
