//! The SDK's error type, and what an expiry handler answers when it has no
//! token.

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
    /// The handler said trying again will not help (not logged in, not this
    /// customer's invoice, not payable): the SDK stopped refreshing until
    /// the page asks again.
    #[error("could not refresh the checkout token: {0}")]
    RefreshRefused(String),
    /// The vendor refused the call for another reason.
    #[error("the payment provider refused the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
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
        matches!(self, Self::RefreshFailed(_) | Self::Unavailable(_))
    }
}

/// Why the `on_access_token_expired` handler brought no token: a sentence
/// for the person at the page, and whether trying again may help.
///
/// A plain message (`"…".into()`) is transient: the SDK tries again on its
/// backoff schedule. Say [`RefreshError::permanent`] when it will not pass
/// by itself, so that no page retries a refusal forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshError {
    message: String,
    transient: bool,
}

impl RefreshError {
    /// It may pass by itself: the network, the merchant's server or the
    /// vendor down or busy.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: true,
        }
    }

    /// Trying again will not help: not logged in, not this customer's
    /// invoice, not payable. The SDK stops refreshing (and tells the other
    /// tabs of the checkout to stop too) until the page asks again.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.transient
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
        if error.transient {
            Self::RefreshFailed(error.message)
        } else {
            Self::RefreshRefused(error.message)
        }
    }
}
