//! How often a keeper may refresh, whatever the tokens it gets say: a
//! floor under the timer's interval, and a throttle on refreshes that
//! succeed too often. Both guard against a server (or vendor) that hands
//! out tokens living a second or less, which would otherwise make every
//! open page ask again in a loop — until some limit answers 429 for
//! everyone.

use std::collections::VecDeque;
use std::time::Duration;

/// The least time between a token's arrival and the timer's next refresh,
/// by default: a token that lives less is used until it expires, and a call
/// it fails is one refresh (its own), not a loop.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// More than this many successful refreshes within [`THROTTLE_WINDOW`]
/// count as a failure: the next refresh backs off as after one. Twelve a
/// minute is what the timer alone can reach with the default floor, so
/// only refreshes the timer did not ask for (refused calls, a "retry"
/// button) can trip it.
pub const THROTTLE_LIMIT: usize = 12;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(60);

/// The recent successful refreshes, on the platform's clock.
#[derive(Debug, Default)]
pub(super) struct Pace {
    recent: VecDeque<Duration>,
    /// Throttled refreshes in a row: the backoff's failure count.
    throttled: u32,
}

impl Pace {
    /// Counts a successful refresh at `now`; `Some(n)`: it is the `n`th in
    /// a row over the limit, and should back off as after `n` failures.
    pub fn succeeded(&mut self, now: Duration) -> Option<u32> {
        while self
            .recent
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= THROTTLE_WINDOW)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        if self.recent.len() > THROTTLE_LIMIT {
            self.throttled += 1;
            Some(self.throttled)
        } else {
            self.throttled = 0;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_twelve_a_minute_is_throttled_ever_harder_until_the_pace_drops() {
        let mut pace = Pace::default();
        let at = |ms: u64| Duration::from_millis(ms);
        for n in 0..12 {
            assert_eq!(pace.succeeded(at(n * 100)), None, "{n}");
        }
        assert_eq!(pace.succeeded(at(1_200)), Some(1));
        assert_eq!(pace.succeeded(at(1_300)), Some(2));
        // A minute later the window holds one refresh again.
        assert_eq!(pace.succeeded(at(61_300)), None);
    }

    #[test]
    fn the_timer_at_its_floor_is_never_throttled() {
        let mut pace = Pace::default();
        for n in 0..1_000 {
            let now = DEFAULT_MIN_REFRESH_INTERVAL * n;
            assert_eq!(pace.succeeded(now), None);
        }
    }
}
