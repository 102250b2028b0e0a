//! A server-side client for the Alternative Payments API: it trades the
//! merchant's OAuth client credentials for an access token (RFC 6749 §4.4,
//! cached and shared), and with it asks for short-lived checkout tokens
//! scoped to one customer and one invoice — the only thing a browser ever
//! gets. It stays within the vendor's request quota, retries transient
//! failures, follows no redirects, and verifies every checkout token
//! against the vendor's published keys before handing it out.
//!
//! It holds nothing of the merchant's own: no users, sessions or records.
//! Check that the invoice belongs to the logged-in user *before* asking for
//! its token.
//!
//! ```no_run
//! use alternative_client::{ClientSecret, VendorClient, VendorConfig, VendorError};
//!
//! # async fn example() -> Result<(), VendorError> {
//! let config = VendorConfig::new(
//!     "https://public-api.demo.alternativepayments.io",
//!     "my_client_id",
//!     ClientSecret::new(std::env::var("ALTERNATIVE_CLIENT_SECRET").unwrap()),
//! );
//! // One client for the whole server: it holds the cached OAuth token
//! // and the quota.
//! let vendor = VendorClient::new(config)?;
//!
//! // … after checking that invoice inv_1001 is this customer's:
//! let issued = vendor.checkout_token("cus_acme", "inv_1001").await?;
//! // Hand `issued.token.expose()` and `issued.expires_in` to that
//! // customer's browser, and nothing else.
//! # Ok(())
//! # }
//! ```
//!
//! Errors say what to do next ([`VendorError::is_transient`]): a refusal
//! (fix the request), unavailable (try again soon), malformed (alert
//! someone), busy (over the quota: retry after the time it gives).

mod answers;
mod client;
mod error;
mod fleet;
mod fleet_state;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod jwks;
pub mod metrics;
mod partner;
mod quota;
mod request_id;
mod retry;
mod secret;
mod token_cache;
mod transport;
pub mod webhook;

pub use answers::{IssuedCheckoutToken, MAX_CHECKOUT_LIFETIME, MIN_CHECKOUT_LIFETIME};
pub use client::{VendorClient, VendorConfig, VendorInvoice};
pub use error::VendorError;
pub use fleet_state::{FleetState, FleetStateError};
pub use health::PROBE_INTERVAL;
pub use jwks::CheckoutClaims;
pub use partner::{EventPage, ListedEvent, Settlement, EVENT_PAGE};
pub use request_id::{current_request_id, with_request_id, RequestId};
pub use secret::{CheckoutToken, ClientSecret, OAuthAccessToken};

/// The parts [`VendorClient`] is built from. Public so that the benchmarks
/// (`benches/parts.rs`) and the allocation test can measure them alone; an
/// app needs only the items at the crate root.
pub mod parts {
    pub use crate::jwks::TokenVerifier;
    pub use crate::quota::{Busy, Quota, MAX_WAITING_PER_CALLER};
    pub use crate::retry::{retrying, MAX_RETRIES, MAX_RETRY_AFTER};
    pub use crate::token_cache::TokenCache;
}

#[cfg(test)]
mod tests;
