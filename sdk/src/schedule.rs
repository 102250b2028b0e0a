//! When to refresh a token: pure arithmetic on durations, so it is tested
//! natively and no wall clock is involved.

use std::time::Duration;

/// Refresh this long before expiry: covers a slow merchant round trip and a
/// tab whose timers run late, yet leaves most of a short token's life in use.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long after receiving a token with `expires_in` left to refresh it.
/// The margin is capped at a quarter of the lifetime, so a short-lived token
/// is still used for most of its life rather than refreshed at once.
pub fn refresh_delay(expires_in: Duration, margin: Duration) -> Duration {
    expires_in.saturating_sub(margin.min(expires_in / 4))
}

/// The first failures in a row are retried quickly, 1, 2, 4, 8 and 16 s
/// apart: a blip is over before anyone notices.
const QUICK_RETRIES: u32 = 5;
/// After that, every 30 to 60 s for as long as the page is open: an outage
/// of the merchant's server or of the vendor ends without anyone reloading,
/// and costs the merchant at most two calls a minute per checkout.
const SLOW_RETRY: Duration = Duration::from_secs(30);

/// How long after the `failures`th failure in a row to try again.
/// `random` (in [0, 1)) spreads the slow retries, so that pages which
/// failed together do not all try again at the same moment.
pub fn retry_delay(failures: u32, random: f64) -> Duration {
    if failures <= QUICK_RETRIES {
        Duration::from_secs(1 << failures.saturating_sub(1))
    } else {
        SLOW_RETRY + SLOW_RETRY.mul_f64(random.clamp(0.0, 1.0))
    }
}

/// When to try again after the `failures`th transient failure in a row:
/// [`retry_delay`]'s backoff, and never sooner than the `Retry-After` the
/// answer named (RFC 9110, section 10.2.3). The rule the keeper keeps for
/// its token, for a page's own reads (its first reads, say) to keep too.
pub fn retry_wait(failures: u32, retry_after: Option<Duration>, random: f64) -> Duration {
    retry_delay(failures, random).max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_long_token_is_refreshed_a_margin_before_expiry() {
        assert_eq!(refresh_delay(secs(900), DEFAULT_REFRESH_MARGIN), secs(840));
    }

    #[test]
    fn a_short_token_keeps_three_quarters_of_its_life() {
        assert_eq!(refresh_delay(secs(8), DEFAULT_REFRESH_MARGIN), secs(6));
    }

    #[test]
    fn retries_come_quickly_then_slowly_and_spread_out() {
        let quick: Vec<_> = (1..=5).map(|n| retry_delay(n, 0.9)).collect();
        assert_eq!(quick, [1, 2, 4, 8, 16].map(secs));
        assert_eq!(retry_delay(6, 0.0), secs(30));
        assert_eq!(retry_delay(1_000, 0.5), secs(45));
        assert!(retry_delay(u32::MAX, 0.999_999) < secs(60));
    }

    #[test]
    fn an_expired_token_is_refreshed_at_once() {
        assert_eq!(
            refresh_delay(Duration::ZERO, DEFAULT_REFRESH_MARGIN),
            Duration::ZERO
        );
    }

    #[test]
    fn a_retry_waits_out_the_backoff_and_any_retry_after() {
        assert_eq!(retry_wait(2, None, 0.0), secs(2));
        assert_eq!(retry_wait(1, Some(secs(5)), 0.0), secs(5));
        assert_eq!(retry_wait(4, Some(secs(1)), 0.0), secs(8));
    }
}
