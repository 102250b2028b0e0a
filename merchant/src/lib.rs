//! The merchant's own side of the checkout: its users, its invoices and
//! who owns each, its sessions and its limits — and minting a checkout token
//! (through [`alternative_client`]) only for an invoice its records say is
//! the logged-in user's. Only checkout tokens ever reach a browser.

mod checkout;
pub mod db;
mod error;
mod fleet;
pub mod gate;
mod input;
pub mod limiter;
pub mod metrics;
mod payments;
mod records;
pub mod sessions;
mod users;

pub use checkout::{CatchUpError, CaughtUp, CheckoutService, TokenRead, Turn, CATCH_UP_LEASE};
pub use error::CheckoutError;
pub use input::{check_credentials, InvoiceId, Malformed};
pub use metrics::MintReason;
pub use payments::{Recorded, Via};
pub use records::{ImportError, InvoiceRecord, PaymentState, Records};
pub use sessions::{CachedSessions, EndedSessions, SqlSessions};
pub use users::{hash_password, AddUserError, User, Users, WallClock, SESSION_MAX_AGE};

#[cfg(test)]
mod tests;
