//! The token as the page shows it — its state, never the token itself:
//! what the "session expired" notice and the developer panel (`token.rs`)
//! read.

use checkout_sdk::{RefreshReason, SdkError, StopReason, TokenState, TokenStatus};

/// What the page shows of the token: never the token itself.
#[derive(Clone, Default, PartialEq)]
pub struct TokenView {
    /// A refresh is under way (a QA hook, `data-token-refreshing`: a test
    /// that moves the page's clock waits until a refresh it set off has
    /// been answered and its next timer armed).
    pub refreshing: bool,
    /// The first token has arrived: until then a failure is the page's
    /// error (there is no session to call expired yet).
    pub(super) opened: bool,
    pub(super) expires_in: u64,
    pub(super) refresh_count: u32,
    pub(super) last_reason: &'static str,
    /// "12 ms", or "—" before this tab's first refresh.
    pub(super) last_refresh_took: String,
    /// Why the last refresh failed, while the token is expired.
    pub(super) expired: Option<String>,
    /// Seconds until the SDK tries again by itself.
    pub(super) retry_in: Option<u64>,
    /// Nothing will renew the token: why.
    pub ended: Option<Ending>,
}

/// Why a checkout cannot go on, each with its own words on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The server said trying again will not help.
    Stopped(StopReason),
    /// Expired with no handler to renew it (`?refresh=off`).
    Expired,
}

impl From<&TokenState> for TokenView {
    fn from(state: &TokenState) -> Self {
        Self {
            refreshing: state.status == TokenStatus::Refreshing,
            opened: state.opened,
            expires_in: state.expires_in.as_secs(),
            refresh_count: state.refresh_count,
            last_reason: match state.last_reason {
                None => "—",
                Some(RefreshReason::Opening) => "opening",
                Some(RefreshReason::Timer) => "timer",
                Some(RefreshReason::Expired) => "401",
                Some(RefreshReason::Tab) => "tab",
                Some(RefreshReason::Visibility) => "visibility",
                Some(RefreshReason::Manual) => "retry",
                Some(RefreshReason::Payment) => "payment",
            },
            last_refresh_took: state
                .last_refresh_took
                .map_or_else(|| "—".to_owned(), |took| format!("{} ms", took.as_millis())),
            expired: match &state.status {
                TokenStatus::Expired { error, .. } => Some(match error {
                    SdkError::RefreshFailed(why) => why.clone(),
                    SdkError::RefreshRefused { message, .. } => message.clone(),
                    other => other.to_string(),
                }),
                _ => None,
            },
            ended: match &state.status {
                TokenStatus::Expired {
                    error: SdkError::RefreshRefused { reason, .. },
                    ..
                } => Some(Ending::Stopped(*reason)),
                TokenStatus::Expired {
                    error: SdkError::AccessTokenExpired,
                    ..
                } => Some(Ending::Expired),
                _ => None,
            },
            retry_in: match &state.status {
                TokenStatus::Expired { retry_in, .. } => {
                    retry_in.map(|d| d.as_secs_f64().ceil() as u64)
                }
                _ => None,
            },
        }
    }
}

impl TokenView {
    /// Why the first token has not come yet, and when the SDK tries again.
    pub fn opening_trouble(&self) -> Option<String> {
        let why = self.expired.as_ref().filter(|_| !self.opened)?;
        Some(match self.retry_in {
            Some(s) => format!("{why} Trying again by itself in {s} s."),
            None => why.clone(),
        })
    }

    /// Expired, and the SDK is trying again: not ended.
    pub(super) fn session_trouble(&self) -> bool {
        self.opened && self.expired.is_some() && self.ended.is_none()
    }

    pub fn opened(&self) -> bool {
        self.opened
    }

    /// The checkout has stopped for good (not merely expired without a
    /// handler, where a call still goes out and fails with the SDK's error).
    pub fn stopped(&self) -> bool {
        matches!(self.ended, Some(Ending::Stopped(_)))
    }
}
