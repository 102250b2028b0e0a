//! What can go wrong talking to the vendor.

/// What went wrong talking to the vendor. The three cases call for different
/// reactions: fix the request, try again later, or alert someone.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VendorError {
    /// The vendor understood and said no (4xx).
    #[error("the vendor refused the request: HTTP {status} {code}")]
    Rejected { status: u16, code: String },
    /// No usable answer: connection refused, timed out, a 5xx or a 429.
    #[error("the vendor is unavailable: {reason}")]
    Unavailable {
        reason: String,
        /// The vendor's `Retry-After`, if it sent one.
        retry_after: Option<std::time::Duration>,
    },
    /// An answer that does not follow the vendor's contract, or a token
    /// that is not what was asked for.
    #[error("the vendor answered nonsense: {0}")]
    Malformed(&'static str),
    /// Over the vendor's quota, with more calls queued than are worth waiting for.
    #[error("busy: retry in {} s", retry_after.as_secs().max(1))]
    Busy { retry_after: std::time::Duration },
}

impl From<crate::quota::Busy> for VendorError {
    fn from(busy: crate::quota::Busy) -> Self {
        Self::Busy {
            retry_after: busy.retry_after,
        }
    }
}

impl VendorError {
    pub(crate) fn from_transport(error: reqwest::Error) -> Self {
        // reqwest's message may carry the URL, never a header or a body: no
        // credential can leak through it.
        let kind = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        Self::Unavailable {
            reason: kind.to_owned(),
            retry_after: None,
        }
    }

    /// Whether trying again soon may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
