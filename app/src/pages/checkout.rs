//! `/checkout/:invoice_id`: the hydrated checkout component.
//!
//! On the server it renders a frame; in the browser it asks the merchant's
//! server for a checkout token, builds a [`CheckoutClient`] with an
//! `on_access_token_expired` handler that asks again, and fetches the invoice
//! from the vendor with it. The token lives in the client, never in the HTML.

use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{AccessToken, CheckoutClient, Invoice, Options, TokenEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::api::{mint_checkout_token, CheckoutSession};

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let params = use_params_map();
    let invoice_id = Memo::new(move |_| params.read().get("invoice_id").unwrap_or_default());
    // Another invoice is another checkout: a new component, token and timer.
    move || view! { <Checkout invoice_id=invoice_id.get()/> }
}

#[component]
fn Checkout(invoice_id: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    let invoice = RwSignal::new(None::<Invoice>);
    let error = RwSignal::new(None::<String>);
    let refresh_count = RwSignal::new(0u32);

    // Effects run only in the browser, once hydrated.
    Effect::new(move |_| {
        hydrated.set(true);
        // Owned by this effect, so by this component: disposed with it, which
        // drops the client and with it the refresh timer. Made here, in the
        // browser, because the client is not `Send`: the server, which may
        // move a page between threads while rendering it, never holds one.
        let client = StoredValue::new_local(None::<CheckoutClient>);
        let invoice_id = invoice_id.clone();
        spawn_local(async move {
            match open_checkout(invoice_id, refresh_count, error).await {
                Ok((started, fetched)) => {
                    client.set_value(Some(started));
                    invoice.set(Some(fetched));
                }
                Err(message) => error.set(Some(message)),
            }
        });
    });

    let field = move |read: fn(&Invoice) -> String| {
        move || invoice.with(|i| i.as_ref().map(read).unwrap_or_default())
    };
    view! {
        <section
            class="checkout"
            data-testid="checkout-root"
            data-hydrated=move || hydrated.get().to_string()
        >
            <h1>"Pay invoice " <span data-testid="invoice-number">{field(|i| i.invoice_number.clone())}</span></h1>
            <dl class="summary" aria-busy=move || invoice.with(Option::is_none).to_string()>
                <dt>"Total"</dt>
                <dd data-testid="invoice-total">{field(|i| format!("{} {}", i.currency, i.total))}</dd>
                <dt>"Due"</dt>
                <dd data-testid="invoice-due">{field(|i| i.due_date.clone())}</dd>
                <dt>"Status"</dt>
                <dd data-testid="invoice-status">{field(|i| i.status.clone())}</dd>
            </dl>
            <p class="error" role="alert" data-testid="checkout-error">
                {move || error.get().unwrap_or_default()}
            </p>
            <p class="token-info">
                "Token refreshes: " <span data-testid="token-refresh-count">{refresh_count}</span>
            </p>
        </section>
    }
}

/// Mints the first token, starts the SDK with a handler that mints the next
/// ones, and fetches the invoice.
async fn open_checkout(
    invoice_id: String,
    refresh_count: RwSignal<u32>,
    error: RwSignal<Option<String>>,
) -> Result<(CheckoutClient, Invoice), String> {
    let first = mint_checkout_token(invoice_id.clone())
        .await
        .map_err(|e| e.to_string())?;
    let mut options = Options::new(first.api_url.clone());
    options.on_access_token_expired = Some(Rc::new(move || {
        let invoice_id = invoice_id.clone();
        Box::pin(async move {
            mint_checkout_token(invoice_id)
                .await
                .map(access_token)
                .map_err(|e| e.to_string())
        })
    }));
    options.on_token_event = Some(Rc::new(move |event| match event {
        TokenEvent::Refreshed { .. } => {
            refresh_count.update(|n| *n += 1);
            error.set(None);
        }
        TokenEvent::RefreshFailed { error: e, .. } => error.set(Some(e.to_string())),
    }));
    let client = CheckoutClient::new(access_token(first), options);
    let fetched = client.invoice().await.map_err(|e| e.to_string())?;
    Ok((client, fetched))
}

fn access_token(session: CheckoutSession) -> AccessToken {
    AccessToken {
        token: session.token,
        expires_in: Duration::from_secs(session.expires_in),
    }
}
