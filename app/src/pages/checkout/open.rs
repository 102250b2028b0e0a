//! Opening the checkout in the browser: the SDK client, connected through
//! the same handler that refreshes its token (so the first mint is retried
//! and shared between tabs like every later one), then the first reads.

use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{
    is_offline, retry_wait, AccessToken, CheckoutClient, ExpiryHandler, Options, RefreshError,
    SdkError, StopReason,
};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use super::state::Shared;
use super::token_view::TokenView;
use crate::api::{mint_checkout_token, mint_reason, AppError, CheckoutTokenView, InvoiceView};

/// Connects, then reads the invoice (unless the server's reading is on the
/// page), its methods and its PDF link; while the merchant or the vendor
/// is down the SDK (for the token) or this (for the reads) says so and
/// tries again by itself.
pub async fn open(shared: Shared, invoice_id: String, api_url: String, refresh: bool) {
    let Shared { error, token, .. } = shared;
    let mint = mint_handler(invoice_id.clone());
    let mut options = Options::new(api_url);
    if refresh {
        options.on_access_token_expired = Some(mint.clone());
    }
    options.on_token_state = Some(Rc::new(move |state| token.set(TokenView::from(state))));
    options.share_between_tabs = Some(invoice_id);
    let opened = match CheckoutClient::connect(mint, options).await {
        Ok(client) => Rc::new(client),
        Err(SdkError::RefreshRefused { message, .. }) => return error.set(Some(message)),
        Err(e) => return error.set(Some(e.to_string())),
    };
    token.set(TokenView::from(&opened.token_state()));
    shared
        .client
        .set_value(Some(SendWrapper::new(opened.clone())));
    first_reads(&opened, shared).await;
}

/// The invoice (if the page has none), its methods and its PDF link, each
/// until it is in or refused for good.
async fn first_reads(opened: &CheckoutClient, shared: Shared) {
    let Shared {
        invoice,
        methods,
        selected,
        pdf_url,
        error,
        server_error,
        ..
    } = shared;
    let mut have_invoice = invoice.with_untracked(Option::is_some);
    let (mut have_methods, mut have_link) = (false, false);
    let mut failures = 0;
    loop {
        // The reads still missing go out together: one round trip instead
        // of several, and if the token has expired they share one refresh.
        let (fetched, list, link) = futures::join!(
            unless(have_invoice, opened.invoice()),
            unless(have_methods, opened.payment_methods()),
            unless(have_link, opened.pdf_link())
        );
        // A read that may pass (the vendor down or busy: tabs of one
        // checkout share a token and its calls a second) is sent again;
        // without the methods there is no way to pay.
        let mut again = None;
        match fetched {
            Some(Ok(fetched)) => {
                have_invoice = true;
                invoice.set(Some(InvoiceView::from(&fetched)));
            }
            Some(Err(e)) if e.is_transient() => again = Some(e),
            Some(Err(e)) => return error.set(Some(e.to_string())),
            None => {}
        }
        match list {
            Some(Ok(list)) => {
                have_methods = true;
                selected.set(list.first().map(|m| m.id.clone()));
                methods.set(list);
            }
            Some(Err(e)) if e.is_transient() => again = again.or(Some(e)),
            // Refused for good (the token expired with no handler, say):
            // there is no way to pay, and the page says why.
            Some(Err(e)) => return error.set(Some(e.to_string())),
            None => {}
        }
        match link {
            Some(Ok(link)) => {
                have_link = true;
                pdf_url.set(Some(link.url));
            }
            Some(Err(e)) if e.is_transient() => again = again.or(Some(e)),
            Some(Err(_)) => have_link = true,
            None => {}
        }
        let Some(why) = again else {
            // Everything is in.
            error.set(None);
            server_error.set(None);
            return;
        };
        failures += 1;
        if !wait_to_retry(error, &why, failures).await {
            return;
        }
    }
}

/// `read`'s outcome, unless it is `done` already (then it is not sent).
async fn unless<T>(done: bool, read: impl std::future::Future<Output = T>) -> Option<T> {
    if done {
        None
    } else {
        Some(read.await)
    }
}

/// Shows why with a note that the page will try again, and waits until
/// then. `false` if the page went away meanwhile.
async fn wait_to_retry(error: RwSignal<Option<String>>, why: &SdkError, failures: u32) -> bool {
    // The SDK's rule, as for its token: backoff, and not before the
    // vendor's `Retry-After`.
    let wait = retry_wait(failures, why.retry_after(), js_sys::Math::random());
    let note = format!("{why} Trying again by itself in {} s.", wait.as_secs());
    // A disposed signal (the component is gone) refuses the value.
    if error.try_set(Some(note)).is_some() {
        return false;
    }
    gloo_timers::future::sleep(wait).await;
    error.try_get_untracked().is_some()
}

/// The SDK's handler: a token from the merchant's server for this invoice
/// (not the one the vendor just refused, if that is why it is asked), or
/// what the server said, as the SDK should take it: try again (down, busy
/// after its `Retry-After`, offline) or stop, and why (not logged in, not
/// yours, not payable, paid).
fn mint_handler(invoice_id: String) -> ExpiryHandler {
    Rc::new(move |context| {
        let invoice_id = invoice_id.clone();
        Box::pin(async move {
            let reason = mint_reason(&context).to_owned();
            mint_checkout_token(invoice_id, context.refused_token_id, Some(reason))
                .await
                .map(access_token)
                .map_err(refresh_error)
        })
    })
}

fn refresh_error(error: AppError) -> RefreshError {
    let stop = |reason| RefreshError::stop(reason, error.to_string());
    match error {
        AppError::NotLoggedIn => stop(StopReason::NotLoggedIn),
        AppError::InvoiceNotFound => stop(StopReason::NotYours),
        AppError::NotPayable | AppError::PaymentMismatch => stop(StopReason::NotPayable),
        AppError::AlreadyPaid => stop(StopReason::Paid),
        AppError::Busy { retry_after_secs } | AppError::TooManyRequests { retry_after_secs } => {
            RefreshError::busy(error.to_string(), Duration::from_secs(retry_after_secs))
        }
        AppError::Transport(_) if is_offline() => {
            RefreshError::transient(SdkError::Offline.to_string())
        }
        _ if error.is_transient() => RefreshError::transient(error.to_string()),
        _ => stop(StopReason::Other),
    }
}

fn access_token(session: CheckoutTokenView) -> AccessToken {
    AccessToken {
        token: session.token,
        expires_in: Duration::from_secs(session.expires_in),
    }
}
