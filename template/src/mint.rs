//! The two server functions: a checkout token for the customer to pay an
//! invoice, minted by the vendor client (the browser gets the token and its
//! lifetime, never the merchant's credentials), and the reconcile after Pay,
//! which asks the vendor whether the invoice is paid.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The vendor's API address (public: the browser calls it), as context.
#[derive(Clone, Debug)]
pub struct ApiUrl(pub String);

/// What the shop recorded for an invoice: paid, by this payment; or a
/// payment of another amount or currency than the invoice's, kept for a
/// person to look at, and the invoice not paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recorded {
    Paid { payment_id: String },
    Mismatch { payment_id: String },
}

/// What the island needs: the token and the seconds it has left, counted
/// on the server (the browser's clock may be off).
#[derive(Clone, Serialize, Deserialize)]
pub struct Minted {
    pub token: String,
    pub expires_in: u64,
}

/// Why there is no token, split the way the SDK needs it: trying again may
/// help (`is_transient`), or it will not.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum MintError {
    #[error("This invoice is not yours to pay.")]
    NotYours,
    #[error("The payment provider refused this invoice.")]
    Refused,
    #[error("The payment provider is not responding.")]
    Unavailable,
    #[error("Could not reach the shop: {0}")]
    Transport(String),
}

impl MintError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable | Self::Transport(_))
    }
}

impl FromServerFnError for MintError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        Self::Transport(error.to_string())
    }
}

/// The customer asking. Your app: the logged-in user's, from the session
/// (never from the request's arguments).
#[cfg(feature = "ssr")]
const CUSTOMER: &str = "cus_acme";

/// An invoice as the shop's records have it: whose it is and what it
/// asks, the amount as the vendor writes it (a decimal string, no float).
#[cfg(feature = "ssr")]
pub struct Invoice {
    pub id: &'static str,
    pub customer: &'static str,
    pub total: &'static str,
    pub currency: &'static str,
}

/// The shop's invoices. Your app: your records (the sandbox's seed has
/// these two).
#[cfg(feature = "ssr")]
const INVOICES: &[Invoice] = &[
    Invoice {
        id: "inv_1001",
        customer: "cus_acme",
        total: "1250.00",
        currency: "USD",
    },
    Invoice {
        id: "inv_1002",
        customer: "cus_acme",
        total: "310.40",
        currency: "USD",
    },
];

/// The shop's invoice `id`, if it has one.
#[cfg(feature = "ssr")]
pub fn invoice(id: &str) -> Option<&'static Invoice> {
    INVOICES.iter().find(|invoice| invoice.id == id)
}

/// Refuses an invoice that is not the customer's, before the vendor is
/// asked: the vendor scopes a token to whatever customer and invoice it is
/// told, whoever asks.
#[cfg(feature = "ssr")]
fn check_owner(invoice_id: &str) -> Result<(), MintError> {
    match invoice(invoice_id) {
        Some(invoice) if invoice.customer == CUSTOMER => Ok(()),
        _ => Err(MintError::NotYours),
    }
}

/// The vendor client the server provides as context.
#[cfg(feature = "ssr")]
fn vendor() -> Result<std::sync::Arc<alternative_client::VendorClient>, MintError> {
    use_context().ok_or(MintError::Unavailable)
}

/// Maps the vendor client's error to what the page can act on.
#[cfg(feature = "ssr")]
fn from_vendor(error: alternative_client::VendorError) -> MintError {
    if error.is_transient() {
        MintError::Unavailable
    } else {
        MintError::Refused
    }
}

/// `POST /api/checkout-token`: a token for `invoice_id`, if it is the
/// customer's.
#[server(prefix = "/api", endpoint = "checkout-token")]
pub async fn checkout_token(invoice_id: String) -> Result<Minted, MintError> {
    check_owner(&invoice_id)?;
    let issued = vendor()?
        .checkout_token(CUSTOMER, &invoice_id)
        .await
        .map_err(from_vendor)?;
    Ok(Minted {
        // The one place the token is read: to hand it to its customer.
        token: issued.token.expose().to_owned(),
        expires_in: issued.expires_in.as_secs(),
    })
}

/// `POST /api/reconcile`, after the page paid: asks the vendor, with the
/// shop's own credentials, whether `invoice_id` is paid, and records the
/// payment it names (the page's word is never taken). What the shop
/// recorded for the invoice, or `None` while the vendor has no payment.
/// The signed event records it too, at the webhook endpoint: whichever
/// comes first, it is recorded once.
#[server(prefix = "/api", endpoint = "reconcile")]
pub async fn reconcile(invoice_id: String) -> Result<Option<Recorded>, MintError> {
    use crate::payments::Payments;

    check_owner(&invoice_id)?;
    let settlement = vendor()?
        .settlement(&invoice_id, CUSTOMER)
        .await
        .map_err(from_vendor)?;
    let payments = use_context::<std::sync::Arc<Payments>>().ok_or(MintError::Unavailable)?;
    Ok(settlement.payment.map(|payment| payments.record(payment)))
}
