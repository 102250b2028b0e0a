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
    fn an_expired_token_is_refreshed_at_once() {
        assert_eq!(
            refresh_delay(Duration::ZERO, DEFAULT_REFRESH_MARGIN),
            Duration::ZERO
        );
    }
}
