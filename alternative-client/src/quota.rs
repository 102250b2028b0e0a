//! Staying within the vendor's request quota (5 requests per second per API
//! key on the real API) instead of finding it by way of 429s, and sharing it
//! fairly between the merchant's customers.
//!
//! The rule is [`fleet_redis::Gcra`] (a token bucket kept as one timestamp),
//! the one a fleet keeps in Redis too: up to `burst` calls go at once, then
//! one every `1/rate`. A call over the quota waits its turn — at most
//! `max_wait`; a longer queue than that is refused at once with the time
//! after which a retry would fit.
//!
//! Fair share: each caller (the customer a call is made for) holds at most
//! [`MAX_WAITING_PER_CALLER`] places in the queue. One customer flooding the
//! server gets the free burst and then two places; everyone else queues
//! behind at most two of its calls, so a caller waits at most
//! `2 × interval` (400 ms at 5/s) per other busy customer ahead of it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use fleet_redis::{Decision, Gcra};
use tokio::time::Instant;

use crate::metrics::{QUOTA_REFUSALS, QUOTA_WAITS};

/// Places in the queue one caller may hold while the quota is used up. Two:
/// a page load makes at most two vendor calls (the invoice summary, and a
/// token when none can be reused), so a person never meets this limit;
/// more would let one caller fill the queue everyone shares.
pub const MAX_WAITING_PER_CALLER: usize = 2;

/// The burst to allow ourselves under a vendor quota of `per_second` calls
/// a second in bursts of as many: one fewer (at least one). This side
/// counts turns, the vendor counts arrivals, and what lies between (a task
/// woken late, the network, another instance reading Redis's clock) can
/// bring two calls closer together at the vendor than their turns were.
/// One call of the vendor's burst left unused absorbs up to one interval
/// (200 ms at 5 a second) of that; the steady rate stays the vendor's.
/// Holding the vendor's exact burst, a fleet was refused once in 1,000
/// first mints offered at 100 a second (BENCHMARKS.md, 2026-12-03).
fn burst_under(per_second: u32) -> u32 {
    per_second.saturating_sub(1).max(1)
}

/// How long a call over the quota may wait for its turn before the page is
/// told "busy": about one second's worth of calls queued behind it.
pub(crate) const MAX_QUOTA_WAIT: Duration = Duration::from_secs(1);

/// Past this many callers tracked, the ones with no place in the queue go.
const MAX_CALLERS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("over the vendor quota; retry in {retry_after:?}")]
pub struct Busy {
    pub retry_after: Duration,
}

pub struct Quota {
    limit: Gcra,
    /// Where this quota's clock starts: times are kept as ms since then,
    /// as [`Gcra::decide`] takes them.
    origin: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The theoretical arrival time of the next call at the steady rate (ms).
    tat: Option<u64>,
    /// Each caller's places in the queue: when each of its waiting calls
    /// goes (ms), earliest first.
    waiting: HashMap<String, Vec<u64>>,
}

impl Quota {
    /// `per_second` 0 means no quota.
    pub fn new(per_second: u32, burst: u32, max_wait: Duration) -> Self {
        let limit = if per_second == 0 {
            Gcra::off()
        } else {
            Gcra {
                max_wait,
                places: MAX_WAITING_PER_CALLER as u32,
                ..Gcra::refusing(per_second, Duration::from_secs(1), burst)
            }
        };
        Self {
            limit,
            origin: Instant::now(),
            state: Mutex::default(),
        }
    }

    /// The quota to keep under a vendor's of `per_second` calls a second:
    /// its rate, a burst one under its own ([`burst_under`]), and at most
    /// [`MAX_QUOTA_WAIT`] in the queue. The one place that rule is applied:
    /// an instance alone, its share in a fleet, and the fleet's in Redis.
    pub(crate) fn under_vendor(per_second: u32) -> Self {
        Self::new(per_second, burst_under(per_second), MAX_QUOTA_WAIT)
    }

    /// The rule this quota keeps, for a fleet to keep it in Redis.
    pub(crate) fn limit(&self) -> Gcra {
        self.limit
    }

    /// Waits for this call's turn, or says how long until one would fit.
    /// `caller` is whom the call is for (a customer id): see the module docs.
    pub async fn acquire(&self, caller: &str) -> Result<(), Busy> {
        if self.limit.is_off() {
            return Ok(());
        }
        let wait = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = self.now();
            let held = state.waiting.get(caller).map_or(&[][..], Vec::as_slice);
            match self.limit.decide(state.tat, now, held) {
                (Decision::Refuse { retry_after }, _) => {
                    metrics::counter!(QUOTA_REFUSALS).increment(1);
                    return Err(Busy { retry_after });
                }
                (Decision::Go { wait }, tat) => {
                    state.tat = tat;
                    if !wait.is_zero() {
                        state.hold_place(caller, now, now + wait.as_millis() as u64);
                        metrics::counter!(QUOTA_WAITS).increment(1);
                    }
                    wait
                }
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// As if the whole burst had just been used: the next call goes one
    /// interval from now at the earliest (see `fleet::turn`).
    pub(crate) fn drain(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let spent = self.now() + self.limit.tolerance_ms() + self.limit.interval_ms();
        state.tat = Some(state.tat.map_or(spent, |tat| tat.max(spent)));
    }

    /// Now, in ms since `origin` (tokio's clock, which tests pause).
    fn now(&self) -> u64 {
        Instant::now().duration_since(self.origin).as_millis() as u64
    }
}

impl State {
    /// Gives `caller` a place in the queue going at `goes` (the rule has
    /// checked it holds fewer than its share).
    fn hold_place(&mut self, caller: &str, now: u64, goes: u64) {
        if self.waiting.len() >= MAX_CALLERS && !self.waiting.contains_key(caller) {
            self.waiting
                .retain(|_, places| places.last().is_some_and(|&at| at > now));
        }
        let places = self.waiting.entry(caller.to_owned()).or_default();
        places.retain(|&at| at > now);
        places.push(goes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_one_call_per_interval() {
        let quota = Arc::new(Quota::new(5, 5, Duration::from_secs(2)));
        let started = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|n| {
                let quota = quota.clone();
                tokio::spawn(async move {
                    // Ten callers: one caller could not hold ten places.
                    quota.acquire(&format!("c{n}")).await.unwrap();
                    started.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        assert!(times[..5].iter().all(|t| t.is_zero()), "{times:?}");
        assert_eq!(times[5], Duration::from_millis(200));
        assert_eq!(times[9], Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_longer_than_max_wait_is_refused_with_a_retry_time() {
        let quota = Quota::new(5, 5, Duration::from_millis(500));
        for _ in 0..5 {
            quota.acquire("c").await.unwrap(); // the burst
        }
        // The next waits its 200 ms turn.
        let before = Instant::now();
        quota.acquire("c").await.unwrap();
        assert_eq!(before.elapsed(), Duration::from_millis(200));
        let busy = Quota::new(5, 1, Duration::ZERO);
        busy.acquire("c").await.unwrap();
        assert_eq!(
            busy.acquire("c").await,
            Err(Busy {
                retry_after: Duration::from_millis(200)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_quota_refills() {
        let quota = Quota::new(5, 5, Duration::ZERO);
        for _ in 0..5 {
            quota.acquire("c").await.unwrap();
        }
        assert!(quota.acquire("c").await.is_err());
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..5 {
            quota.acquire("c").await.unwrap();
        }
    }

    /// One customer floods; another's call still gets its turn in time.
    #[tokio::test(start_paused = true)]
    async fn one_caller_cannot_take_the_queue_from_the_others() {
        let quota = Arc::new(Quota::new(5, 5, Duration::from_secs(1)));
        let flood: Vec<_> = (0..24)
            .map(|_| {
                let quota = quota.clone();
                tokio::spawn(async move { quota.acquire("flooder").await })
            })
            .collect();
        tokio::task::yield_now().await;
        let other = quota.acquire("other").await;
        let mut granted = 0;
        for call in flood {
            granted += usize::from(call.await.unwrap().is_ok());
        }
        assert_eq!(other, Ok(()));
        // The burst, then its share of the queue; the rest is told "busy".
        assert_eq!(granted, 5 + MAX_WAITING_PER_CALLER);
    }

    #[tokio::test(start_paused = true)]
    async fn a_callers_places_free_up_as_its_calls_go() {
        let quota = Quota::new(5, 1, Duration::from_secs(5));
        quota.acquire("a").await.unwrap();
        let (first, second) = tokio::join!(quota.acquire("a"), quota.acquire("a"));
        assert_eq!((first, second), (Ok(()), Ok(())));
        // Both went: its places are free again.
        let (third, fourth) = tokio::join!(quota.acquire("a"), quota.acquire("a"));
        assert_eq!((third, fourth), (Ok(()), Ok(())));
    }
}
