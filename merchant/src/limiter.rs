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
    pub mint_per_session: KeyedLimiter,
    pub mint_per_address: KeyedLimiter,
    pub login_per_address: KeyedLimiter,
    pub login_per_email: KeyedLimiter,
}

impl Limits {
    /// Every limit off (see [`KeyedLimiter::off`]).
    pub fn off() -> Self {
        Self {
            mint_per_session: KeyedLimiter::off(),
            mint_per_address: KeyedLimiter::off(),
            login_per_address: KeyedLimiter::off(),
            login_per_email: KeyedLimiter::off(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A page mints once, then about every 14 minutes; reloads and a
            // few tabs fit easily in 10 at once and 30 a minute.
            mint_per_session: KeyedLimiter::per_minute(30, 10),
            // Many users may share an address (an office, a NAT).
            mint_per_address: KeyedLimiter::per_minute(300, 60),
            // Failed log-ins only (a success is refunded). Per email: 5 at
            // once, then one every 12 s — guessing one account's password is
            // hopeless. Per address: looser (one per second after 30), since
            // an office shares one, yet a sweep across accounts stays slow.
            login_per_address: KeyedLimiter::per_minute(60, 30),
            login_per_email: KeyedLimiter::per_minute(5, 5),
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
}
