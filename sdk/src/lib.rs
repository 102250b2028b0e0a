//! The checkout SDK: the browser side of the checkout-token flow.
//!
//! A [`CheckoutClient`] holds a checkout token the merchant's server minted:
//! [`CheckoutClient::connect`] asks for the first one, retried and shared
//! between tabs like every later refresh ([`CheckoutClient::new`] takes one
//! the page already has). It calls the vendor's checkout API with that
//! token, refreshes it a margin before it expires, and when the vendor
//! answers `access_token_expired` anyway, asks the `on_access_token_expired`
//! handler for a new one and retries the call once. Without a handler, such
//! a call fails with [`SdkError::AccessTokenExpired`].

mod browser;
mod client;
mod error;
mod keeper;
mod platform;
mod schedule;
mod tabs;
mod types;

pub use browser::{BrowserTabs, Wakeups};
pub use client::{CheckoutClient, Options};
pub use error::{RefreshError, SdkError};
pub use keeper::{
    ExpiryHandler, Keeper, KeeperOptions, RefreshReason, StateListener, TokenState, TokenStatus,
};
pub use platform::{Browser, Platform};
pub use schedule::{refresh_delay, retry_delay, DEFAULT_REFRESH_MARGIN};
pub use tabs::{TabNews, Tabs, Turn, NEWS_GRACE};
pub use types::{AccessToken, Invoice, Payment, PaymentMethod, PaymentRequest, PdfLink};
