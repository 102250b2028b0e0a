//! The merchant backend's side of the checkout.
//!
//! The merchant holds OAuth client credentials for the vendor. It trades them
//! for an OAuth access token (cached, see [`token_cache`]), and with that asks
//! the vendor for short-lived checkout tokens scoped to one customer and one
//! invoice — only for invoices in its own records. Only checkout tokens ever
//! reach a browser.

mod checkout;
pub mod db;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod input;
mod jwks;
pub mod limiter;
pub mod quota;
mod records;
pub mod retry;
mod secret;
pub mod sessions;
pub mod token_cache;
mod users;
mod vendor;

pub use checkout::{CheckoutService, MintedToken};
pub use error::{MintError, VendorError};
pub use input::{check_credentials, InvoiceId, Malformed};
pub use jwks::{CheckoutClaims, TokenVerifier};
pub use records::{InvoiceRecord, Records};
pub use secret::{CheckoutToken, ClientSecret, OAuthAccessToken};
pub use sessions::{CachedSessions, SqliteSessions};
pub use users::{hash_password, User, Users};
pub use vendor::{IssuedCheckoutToken, VendorClient, VendorConfig, VendorInvoice};

#[cfg(test)]
mod tests;
