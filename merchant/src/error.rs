//! Why a checkout token could not be minted for the page.

use alternative_client::VendorError;

/// Why a checkout token could not be minted for the page.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// Not one of the merchant's invoices, or not the user's.
    #[error("no such invoice")]
    UnknownInvoice,
    /// The merchant's records say the invoice is paid.
    #[error("the invoice is paid")]
    Paid,
    /// The merchant's records hold a payment for it that is not its amount
    /// or currency: a person must look before anyone pays again.
    #[error("a payment that does not match the invoice is recorded")]
    PaymentMismatch,
    /// The merchant's own database failed.
    #[error("the merchant database failed")]
    Storage,
    /// The vendor would not mint one (e.g. the invoice is already paid).
    #[error("the vendor refused: {0}")]
    Refused(VendorError),
    /// Too many mints right now; the page may retry after this long.
    #[error("busy: retry in {} s", .0.as_secs().max(1))]
    Busy(std::time::Duration),
    #[error(transparent)]
    Vendor(VendorError),
}

impl CheckoutError {
    /// The `outcome` label of a mint that failed so.
    pub fn outcome(&self) -> crate::metrics::MintOutcome {
        use crate::metrics::MintOutcome;
        match self {
            Self::UnknownInvoice => MintOutcome::UnknownInvoice,
            Self::Paid => MintOutcome::Paid,
            Self::PaymentMismatch => MintOutcome::PaymentMismatch,
            Self::Storage => MintOutcome::Storage,
            Self::Refused(_) => MintOutcome::Refused,
            Self::Busy(_) => MintOutcome::Busy,
            Self::Vendor(_) => MintOutcome::VendorFailed,
        }
    }

    pub(crate) fn storage(error: sqlx::Error) -> Self {
        tracing::error!(%error, "merchant database error");
        Self::Storage
    }
}

impl From<VendorError> for CheckoutError {
    fn from(error: VendorError) -> Self {
        match error {
            VendorError::Rejected { .. } => Self::Refused(error),
            VendorError::Busy { retry_after } => Self::Busy(retry_after),
            other => Self::Vendor(other),
        }
    }
}
