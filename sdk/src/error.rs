//! The SDK's one error type.

/// Why a call through the SDK failed. `Clone`, because one refresh's outcome
/// is shared by every call that waited for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    /// The token expired and no `on_access_token_expired` handler was given.
    #[error("AccessTokenExpiredError: the checkout token has expired")]
    AccessTokenExpired,
    /// The handler could not provide a new token.
    #[error("could not refresh the checkout token: {0}")]
    RefreshFailed(String),
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
