//! Minting checkout tokens for the logged-in user.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;

/// A checkout token for the browser, with the lifetime it has left and the
/// vendor API it is valid for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutTokenView {
    pub token: String,
    /// Seconds left, counted on the server: the browser's clock may be off.
    pub expires_in: u64,
    pub api_url: String,
}

impl std::fmt::Debug for CheckoutTokenView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutTokenView")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// The vendor API the page's checkout talks to. Public (the browser calls
/// it), so the server renders it into the island's props and the island
/// can open before its first token. Known only on the server.
pub fn vendor_api_url() -> String {
    #[cfg(feature = "ssr")]
    {
        super::ssr::checkout()
            .map(|checkout| checkout.api_url().to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// Why the page asks for a token, as it tells the server (`reason=…` on a
/// mint; the server counts mints by it: `merchant::MintReason`): the
/// SDK's refresh reason, or `retry` for any try after a failed one.
pub fn mint_reason(context: &checkout_sdk::RefreshContext) -> &'static str {
    use checkout_sdk::RefreshReason;

    if context.attempt > 1 {
        return "retry";
    }
    match context.reason {
        RefreshReason::Opening => "first",
        RefreshReason::Timer => "timer",
        RefreshReason::Expired => "expired",
        RefreshReason::Tab => "tab",
        RefreshReason::Visibility => "wake_up",
        RefreshReason::Manual => "manual",
        RefreshReason::Payment => "payment",
    }
}

/// Mints a checkout token for the logged-in user to pay `invoice_id`.
/// `POST /api/checkout/token`, form-encoded (`invoice_id=…`;
/// `refused=<jti>` when the vendor has just refused the page's token: that
/// one is not handed out again; `reason=…`, why the page asks
/// ([`mint_reason`]), counted), with the session cookie: 400 for an id not
/// of the documented shape, 401 without a session, 404 for an invoice that
/// is not the user's, 409 for one the vendor will not take payment for,
/// 429 over the per-session or per-address limit.
#[server(prefix = "/api", endpoint = "checkout/token")]
pub async fn mint_checkout_token(
    invoice_id: String,
    refused: Option<String>,
    reason: Option<String>,
) -> Result<CheckoutTokenView, AppError> {
    use super::ssr;

    let invoice_id = ssr::invoice_id(&invoice_id)?;
    let reason = merchant::MintReason::parse(reason.as_deref());
    let refused = refused.as_deref().map(ssr::token_id).transpose()?;
    let (user, read) = ssr::mint_caller(&invoice_id).await?;
    let checkout = ssr::checkout()?;
    let read = match refused {
        Some(refused) => {
            checkout.forget_refused(&user, &invoice_id, refused).await;
            // What the gate read may be the token just refused.
            None
        }
        None => read,
    };
    let minted = ssr::for_this_request(checkout.mint_with(&user, &invoice_id, read, reason))
        .await
        .map_err(|error| ssr::checkout_error(error, &invoice_id, "get a checkout token"))?;
    Ok(CheckoutTokenView {
        // The one place the token is read: to hand it to its customer's browser.
        token: minted.token.expose().to_owned(),
        expires_in: minted.expires_in.as_secs(),
        api_url: checkout.api_url().to_owned(),
    })
}

/// Asks the server to record the outcome of a Pay the page just made:
/// `POST /api/checkout/reconcile` (`invoice_id=…`, with the session
/// cookie). The server reads the invoice from the vendor with its own
/// credentials (it believes nothing the page says) and records the payment,
/// so its records are right even while the vendor's event is on its way.
/// Whether the invoice is recorded paid; 409 `payment_mismatch` if the
/// payment recorded is not the invoice's amount or currency.
#[server(prefix = "/api", endpoint = "checkout/reconcile")]
pub async fn reconcile_payment(invoice_id: String) -> Result<bool, AppError> {
    use super::ssr;

    let invoice_id = ssr::invoice_id(&invoice_id)?;
    let user = ssr::current_user().await?;
    ssr::limit_vendor_calls(&user).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let state = ssr::for_this_request(ssr::checkout()?.reconcile(&user, &invoice_id, now))
        .await
        .map_err(|error| ssr::checkout_error(error, &invoice_id, "reconcile a payment"))?;
    match state {
        merchant::PaymentState::Open => Ok(false),
        merchant::PaymentState::Paid { .. } => Ok(true),
        merchant::PaymentState::Mismatch { .. } => Err(ssr::checkout_error(
            merchant::CheckoutError::PaymentMismatch,
            &invoice_id,
            "reconcile a payment",
        )),
    }
}

/// The invoice as the vendor has it, for the page's summary: rendered on the
/// server, so it is readable before (and without) JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub invoice_number: String,
    pub currency: String,
    pub sub_total: String,
    pub total: String,
    pub status: String,
    pub due_date: String,
}

/// The logged-in user's invoice, read from the vendor by the server; the
/// same checks and limits as a mint.
#[server(prefix = "/api", endpoint = "checkout/invoice")]
pub async fn invoice_summary(invoice_id: String) -> Result<InvoiceView, AppError> {
    use super::ssr;

    let invoice_id = ssr::invoice_id(&invoice_id)?;
    let user = ssr::current_user().await?;
    ssr::limit_vendor_calls(&user).await?;
    let invoice = ssr::for_this_request(ssr::checkout()?.invoice(&user, &invoice_id))
        .await
        .map_err(|error| ssr::checkout_error(error, &invoice_id, "read the invoice"))?;
    Ok(InvoiceView {
        invoice_number: invoice.invoice_number,
        currency: invoice.currency,
        sub_total: invoice.sub_total,
        total: invoice.total,
        status: invoice.status,
        due_date: invoice.due_date,
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use checkout_sdk::{RefreshContext, RefreshReason};
    use merchant::MintReason;

    /// Every reason the page can send is one the server counts by name.
    #[test]
    fn every_reason_the_page_sends_is_counted_by_name() {
        let reasons = [
            RefreshReason::Opening,
            RefreshReason::Timer,
            RefreshReason::Expired,
            RefreshReason::Tab,
            RefreshReason::Visibility,
            RefreshReason::Manual,
            RefreshReason::Payment,
        ];
        let mut counted = std::collections::BTreeSet::new();
        for (reason, attempt) in reasons
            .iter()
            .map(|r| (*r, 1))
            .chain([(RefreshReason::Timer, 2)])
        {
            let sent = super::mint_reason(&RefreshContext {
                reason,
                attempt,
                refused_token_id: None,
            });
            let parsed = MintReason::parse(Some(sent));
            assert_ne!(parsed, MintReason::Unknown, "{sent}");
            counted.insert(parsed.label());
        }
        assert_eq!(counted.len(), 8, "one name each: {counted:?}");
    }
}
