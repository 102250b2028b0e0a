//! Minting checkout tokens for the logged-in user.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;

/// A checkout token for the browser, with the lifetime it has left and the
/// vendor API it is valid for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub token: String,
    /// Seconds left, counted on the server: the browser's clock may be off.
    pub expires_in: u64,
    pub api_url: String,
}

impl std::fmt::Debug for CheckoutSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutSession")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// Mints a checkout token for the logged-in user to pay `invoice_id`.
/// `POST /api/checkout/token`, form-encoded (`invoice_id=…`), with the
/// session cookie: 401 without a session, 404 for an invoice that is not the
/// user's, 429 over the per-session or per-address limit.
#[server(prefix = "/api", endpoint = "checkout/token")]
pub async fn mint_checkout_token(invoice_id: String) -> Result<CheckoutSession, AppError> {
    use super::ssr;
    use merchant::MintError;

    let user = ssr::current_user().await?;
    let limits = ssr::limits()?;
    let session = ssr::session()
        .await?
        .id()
        .map_or_else(|| format!("user:{}", user.id), |id| format!("session:{id}"));
    ssr::limit(&limits.mint_per_session, &session)?;
    ssr::limit(&limits.mint_per_address, &ssr::client_address().await)?;
    let minted = ssr::checkout()?
        .mint(&user, &invoice_id)
        .await
        .map_err(|error| {
            tracing::warn!(%invoice_id, user = user.id, %error, "could not mint a checkout token");
            match error {
                MintError::UnknownInvoice => AppError::InvoiceNotFound,
                MintError::Refused(_) => AppError::NotPayable,
                MintError::Vendor(_) => AppError::VendorUnavailable,
                MintError::Busy(after) => AppError::Busy {
                    retry_after_secs: after.as_secs().max(1),
                },
                MintError::Storage => AppError::Internal,
            }
        })
        .map_err(ssr::with_status)?;
    Ok(CheckoutSession {
        // The one place the token is read: to hand it to its customer's browser.
        token: minted.token.expose().to_owned(),
        expires_in: minted.expires_in.as_secs(),
        api_url: minted.api_url,
    })
}
