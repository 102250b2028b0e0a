//! The checkout SDK: the browser side of the checkout-token flow.
//!
//! A [`CheckoutClient`] holds a checkout token the merchant's server minted:
//! [`CheckoutClient::connect`] asks for the first one, retried and shared
//! between tabs like every later refresh ([`CheckoutClient::new`] takes one
//! the page already has). It calls the vendor's checkout API with that
//! token, refreshes it a margin before it expires, and when the vendor
//! answers `access_token_expired` anyway, asks the `on_access_token_expired`
//! handler for a new one and retries the call once. Without a handler, it
//! reports [`SdkError::AccessTokenExpired`] when the token expires, and
//! every call from then on fails with it.

mod browser;
mod client;
mod error;
mod keeper;
mod platform;
mod schedule;
mod tabs;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod token_id;
mod types;

pub use browser::{is_offline, BrowserTabs, Wakeups};
pub use client::{
    CheckoutClient, Options, PAYMENT_LEAST_LIFETIME, RATE_LIMIT_LONGEST_WAIT, RATE_LIMIT_RETRIES,
};
pub use error::{RefreshError, SdkError, StopReason};
pub use keeper::{
    ExpiryHandler, Keeper, KeeperOptions, RefreshContext, RefreshReason, StateListener, TokenState,
    TokenStatus, DEFAULT_IDLE_AFTER, DEFAULT_MIN_REFRESH_INTERVAL, THROTTLE_LIMIT, THROTTLE_WINDOW,
};
pub use platform::{Browser, Platform};
pub use schedule::{refresh_delay, retry_delay, retry_wait, DEFAULT_REFRESH_MARGIN};
pub use tabs::{TabNews, Tabs, Turn, NEWS_GRACE};
pub use types::{AccessToken, Invoice, Payment, PaymentMethod, PaymentRequest, PdfLink};
