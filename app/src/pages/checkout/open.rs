//! Opening the checkout in the browser: the first token, the SDK client
//! with its expiry handler, and the first reads — retried on the SDK's
//! schedule while the merchant or the vendor is down.

use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{retry_delay, AccessToken, CheckoutClient, Options, SdkError};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use super::state::Shared;
use super::token::TokenView;
use crate::api::{mint_checkout_token, AppError, CheckoutSession};

/// Mints, starts the client and reads the invoice, its methods and its PDF
/// link; says so and tries again by itself while something is down.
pub async fn open(shared: Shared, invoice_id: String, refresh: bool) {
    let Shared {
        invoice,
        methods,
        selected,
        pdf_url,
        error,
        server_error,
        token,
        ..
    } = shared;
    let mut failures = 0;
    let opened = loop {
        match open_client(invoice_id.clone(), refresh, token).await {
            Ok(opened) => break Rc::new(opened),
            Err(e) if e.is_transient() => {
                failures += 1;
                if !wait_to_retry(error, e.to_string(), failures).await {
                    return;
                }
            }
            Err(e) => return error.set(Some(e.to_string())),
        }
    };
    shared
        .client
        .set_value(Some(SendWrapper::new(opened.clone())));
    loop {
        // The three reads go out together: one round trip instead of
        // three, and if the token has expired they share one refresh.
        let (fetched, list, link) = futures::join!(
            opened.invoice(),
            opened.payment_methods(),
            opened.pdf_link()
        );
        match fetched {
            Ok(fetched) => invoice.set(Some(fetched)),
            Err(e @ SdkError::Unavailable(_)) => {
                failures += 1;
                if !wait_to_retry(error, e.to_string(), failures).await {
                    return;
                }
                continue;
            }
            Err(e) => return error.set(Some(e.to_string())),
        }
        error.set(None);
        server_error.set(None);
        if let Ok(list) = list {
            selected.set(list.first().map(|m| m.id.clone()));
            methods.set(list);
        }
        if let Ok(link) = link {
            pdf_url.set(Some(link.url));
        }
        return;
    }
}

/// Shows `why` with a note that the page will try again, and waits until
/// then. `false` if the page went away meanwhile.
async fn wait_to_retry(error: RwSignal<Option<String>>, why: String, failures: u32) -> bool {
    let wait = retry_delay(failures, js_sys::Math::random());
    let note = format!("{why} Trying again by itself in {} s.", wait.as_secs());
    // A disposed signal (the component is gone) refuses the value.
    if error.try_set(Some(note)).is_some() {
        return false;
    }
    gloo_timers::future::sleep(wait).await;
    error.try_get_untracked().is_some()
}

/// Mints the first token and starts the SDK — with a handler that mints the
/// next ones unless `refresh` is off.
async fn open_client(
    invoice_id: String,
    refresh: bool,
    token: RwSignal<TokenView>,
) -> Result<CheckoutClient, AppError> {
    let first = mint_checkout_token(invoice_id.clone()).await?;
    let mut options = Options::new(first.api_url.clone());
    if refresh {
        let invoice_id_for_handler = invoice_id.clone();
        options.on_access_token_expired = Some(Rc::new(move || {
            let invoice_id = invoice_id_for_handler.clone();
            Box::pin(async move {
                mint_checkout_token(invoice_id)
                    .await
                    .map(access_token)
                    .map_err(|e| e.to_string())
            })
        }));
    }
    options.on_token_state = Some(Rc::new(move |state| token.set(TokenView::from(state))));
    options.share_between_tabs = Some(invoice_id);
    let client = CheckoutClient::new(access_token(first), options);
    token.set(TokenView::from(&client.token_state()));
    Ok(client)
}

fn access_token(session: CheckoutSession) -> AccessToken {
    AccessToken {
        token: session.token,
        expires_in: Duration::from_secs(session.expires_in),
    }
}
