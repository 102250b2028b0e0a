//! The SDK's error type, and what an expiry handler answers when it has no
//! token: try again (perhaps after a wait the server named), or stop, and
//! why.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a call through the SDK failed. `Clone`, because one refresh's outcome
/// is shared by every call that waited for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    /// The token expired and no `on_access_token_expired` handler was given.
    #[error("AccessTokenExpiredError: the checkout token has expired")]
    AccessTokenExpired,
    /// The handler could not provide a new token this time; the SDK tries
    /// again by itself.
    #[error("could not refresh the checkout token: {0}")]
    RefreshFailed(String),
    /// The handler said trying again will not help: the SDK stopped
    /// refreshing (in every tab of the checkout) until the page asks again.
    #[error("could not refresh the checkout token: {message}")]
    RefreshRefused { reason: StopReason, message: String },
    /// The browser is offline: nothing was sent.
    #[error("You are offline. The checkout continues when the connection is back.")]
    Offline,
    /// The vendor refused the call for another reason.
    #[error("the payment provider refused the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// The vendor's quota for this token is spent for now (429): try again
    /// after `retry_after` (its `Retry-After`). The SDK does so by itself a
    /// few times ([`crate::RATE_LIMIT_RETRIES`]) before it reports this.
    #[error("the payment provider is busy (too many requests)")]
    RateLimited { retry_after: Duration },
    /// The vendor could not be reached, or answered with a 5xx.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The vendor answered something the SDK cannot read.
    #[error("the payment provider answered unexpectedly: {0}")]
    Malformed(String),
}

impl SdkError {
    /// Whether trying again soon may succeed (the same word as the merchant
    /// side's `AppError::is_transient` and `VendorError::is_transient`).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RefreshFailed(_)
                | Self::RateLimited { .. }
                | Self::Unavailable(_)
                | Self::Offline
        )
    }

    /// How long the vendor asked the caller to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Why refreshing stopped for good: each needs its own words on the page
/// (and only "not logged in" a way forward: logging in again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// No session: logged out (perhaps in another tab), or it ran out.
    NotLoggedIn,
    /// Not this customer's invoice, or no such invoice.
    NotYours,
    /// The invoice cannot be paid (void, or the vendor will not issue a
    /// token for it).
    NotPayable,
    /// The invoice is paid already.
    Paid,
    /// Anything else that will not pass by itself.
    Other,
}

/// Why the `on_access_token_expired` handler brought no token: a sentence
/// for the person at the page, and what the SDK should do next.
///
/// A plain message (`"…".into()`) is [`RefreshError::transient`]: the SDK
/// tries again on its backoff schedule. Say [`RefreshError::stop`] when it
/// will not pass by itself, so that no page retries a refusal forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshError {
    message: String,
    next: Next,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Try again on the backoff schedule, but not before `not_before`.
    TryAgain {
        not_before: Option<Duration>,
    },
    Stop(StopReason),
}

impl RefreshError {
    /// It may pass by itself: the network, the merchant's server or the
    /// vendor down.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            next: Next::TryAgain { not_before: None },
        }
    }

    /// Busy: try again, not before `retry_after` (a server's `Retry-After`,
    /// RFC 9110 §10.2.3), even if the backoff schedule says sooner.
    pub fn busy(message: impl Into<String>, retry_after: Duration) -> Self {
        Self {
            message: message.into(),
            next: Next::TryAgain {
                not_before: Some(retry_after),
            },
        }
    }

    /// Trying again will not help. The SDK stops refreshing (and tells the
    /// other tabs of the checkout to stop too) until the page asks again.
    pub fn stop(reason: StopReason, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            next: Next::Stop(reason),
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self.next, Next::TryAgain { .. })
    }

    /// Why it stopped, for a refusal that will not pass by itself.
    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.next {
            Next::Stop(reason) => Some(reason),
            Next::TryAgain { .. } => None,
        }
    }

    /// The least wait before trying again, if the server named one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.next {
            Next::TryAgain { not_before } => not_before,
            Next::Stop(_) => None,
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<String> for RefreshError {
    fn from(message: String) -> Self {
        Self::transient(message)
    }
}

impl From<&str> for RefreshError {
    fn from(message: &str) -> Self {
        Self::transient(message)
    }
}

impl From<RefreshError> for SdkError {
    fn from(error: RefreshError) -> Self {
        match error.next {
            Next::TryAgain { .. } => Self::RefreshFailed(error.message),
            Next::Stop(reason) => Self::RefreshRefused {
                reason,
                message: error.message,
            },
        }
    }
}
