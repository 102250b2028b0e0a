//! Errors at the merchant's two boundaries: talking to the vendor, and
//! answering the page.

/// What went wrong talking to the vendor. The three cases call for different
/// reactions: fix the request, try again later, or alert someone.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// The vendor understood and said no (4xx).
    #[error("the vendor refused the request: HTTP {status} {code}")]
    Rejected { status: u16, code: String },
    /// No usable answer: connection refused, timed out, or a 5xx.
    #[error("the vendor is unavailable: {0}")]
    Unavailable(String),
    /// An answer that does not follow the vendor's contract.
    #[error("the vendor answered nonsense: {0}")]
    Malformed(&'static str),
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
        Self::Unavailable(kind.to_owned())
    }
}

/// Why a checkout token could not be minted for the page.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// Not one of the merchant's invoices (or, later, not the user's).
    #[error("no such invoice")]
    UnknownInvoice,
    /// The vendor would not mint one (e.g. the invoice is already paid).
    #[error("the vendor refused: {0}")]
    Refused(VendorError),
    #[error(transparent)]
    Vendor(VendorError),
}

impl From<VendorError> for MintError {
    fn from(error: VendorError) -> Self {
        match error {
            VendorError::Rejected { .. } => Self::Refused(error),
            other => Self::Vendor(other),
        }
    }
}
