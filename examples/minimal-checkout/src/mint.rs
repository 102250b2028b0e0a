//! The one server function: a checkout token for the customer to pay an
//! invoice, minted by the vendor client. The browser gets the token and its
//! lifetime, never the merchant's credentials.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The vendor's API address (public: the browser calls it), as context.
#[derive(Clone, Debug)]
pub struct ApiUrl(pub String);

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

/// Which customer each invoice belongs to. Your app: your records.
#[cfg(feature = "ssr")]
const INVOICES: &[(&str, &str)] = &[("inv_1001", "cus_acme"), ("inv_1002", "cus_acme")];

/// `POST /api/checkout-token`: a token for `invoice_id`, if it is the
/// customer's. Checked here, before the vendor is asked: the vendor scopes
/// the token to the customer and invoice it is told, whoever asks.
#[server(prefix = "/api", endpoint = "checkout-token")]
pub async fn checkout_token(invoice_id: String) -> Result<Minted, MintError> {
    use std::sync::Arc;

    use alternative_client::VendorClient;

    if !INVOICES.contains(&(invoice_id.as_str(), CUSTOMER)) {
        return Err(MintError::NotYours);
    }
    let vendor = use_context::<Arc<VendorClient>>().ok_or(MintError::Unavailable)?;
    match vendor.checkout_token(CUSTOMER, &invoice_id).await {
        Ok(issued) => Ok(Minted {
            // The one place the token is read: to hand it to its customer.
            token: issued.token.expose().to_owned(),
            expires_in: issued.expires_in.as_secs(),
        }),
        Err(error) if error.is_transient() => Err(MintError::Unavailable),
        Err(_) => Err(MintError::Refused),
    }
}
