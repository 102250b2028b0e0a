//! The island, the only code in the wasm: it connects the SDK with a handler
//! that calls the server function, reads the invoice, and pays it.

use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{
    AccessToken, CheckoutClient, ExpiryHandler, Options, PaymentRequest, RefreshError,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mint::checkout_token;

/// What the person sees; the token itself never leaves the SDK.
#[derive(Clone, Default)]
struct Shown {
    status: String,
    total: Option<String>,
    refreshes: u32,
}

#[island]
pub fn Checkout(invoice_id: String, api_url: String) -> impl IntoView {
    let shown = RwSignal::new(Shown {
        status: "Connecting…".into(),
        ..Shown::default()
    });
    // Not `Send` (it holds browser handles): kept on this thread, dropped
    // with the island, which stops its timers.
    let client = StoredValue::new_local(None::<Rc<CheckoutClient>>);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        spawn_local(open(invoice_id.clone(), api_url.clone(), shown, client));
    });
    let pay = move |_| {
        if let Some(client) = client.get_value() {
            spawn_local(pay(client, shown));
        }
    };
    view! {
        <section data-hydrated=move || hydrated.get().to_string()>
            <p role="status" data-testid="status">{move || shown.with(|s| s.status.clone())}</p>
            <p>"Total: " <span data-testid="total">{move || shown.with(|s| s.total.clone())}</span></p>
            <p>"Token refreshes: " <span data-testid="refreshes">{move || shown.with(|s| s.refreshes)}</span></p>
            <button type="button" data-testid="pay" on:click=pay
                disabled=move || shown.with(|s| s.total.is_none())>"Pay"</button>
        </section>
    }
}

/// The SDK's `on_access_token_expired` handler, and its opener: a token from
/// the server function, or why not — transient (the SDK tries again by
/// itself) or permanent (it stops).
fn mint(invoice_id: String) -> ExpiryHandler {
    Rc::new(move || {
        let invoice_id = invoice_id.clone();
        Box::pin(async move {
            match checkout_token(invoice_id).await {
                Ok(minted) => Ok(AccessToken {
                    token: minted.token,
                    expires_in: Duration::from_secs(minted.expires_in),
                }),
                Err(e) if e.is_transient() => Err(RefreshError::transient(e.to_string())),
                Err(e) => Err(RefreshError::permanent(e.to_string())),
            }
        })
    })
}

async fn open(
    invoice_id: String,
    api_url: String,
    shown: RwSignal<Shown>,
    client: StoredValue<Option<Rc<CheckoutClient>>, LocalStorage>,
) {
    let handler = mint(invoice_id);
    let mut options = Options::new(api_url);
    options.on_access_token_expired = Some(handler.clone());
    options.on_token_state = Some(Rc::new(move |state| {
        shown.update(|s| s.refreshes = state.refresh_count);
    }));
    let opened = match CheckoutClient::connect(handler, options).await {
        Ok(opened) => Rc::new(opened),
        Err(e) => return shown.update(|s| s.status = e.to_string()),
    };
    client.set_value(Some(opened.clone()));
    match opened.invoice().await {
        Ok(invoice) => shown.update(|s| {
            s.status = format!("Invoice {} is {}.", invoice.invoice_number, invoice.status);
            s.total = Some(format!("{} {}", invoice.total, invoice.currency));
        }),
        Err(e) => shown.update(|s| s.status = e.to_string()),
    }
}

async fn pay(client: Rc<CheckoutClient>, shown: RwSignal<Shown>) {
    let (Ok(invoice), Ok(methods)) = futures::join!(client.invoice(), client.payment_methods())
    else {
        return shown.update(|s| s.status = "Could not read the invoice.".into());
    };
    let Some(method) = methods.first() else {
        return shown.update(|s| s.status = "No saved payment method.".into());
    };
    // A new request, so a new idempotency key, per click: the vendor refuses
    // to pay an invoice twice. (The main app keeps the request to retry it.)
    let request = PaymentRequest::new(method.id.clone(), invoice.total);
    let status = match client.pay(&request).await {
        Ok(payment) => format!(
            "Paid: {} {} ({}).",
            payment.amount, payment.currency, payment.status
        ),
        Err(e) => e.to_string(),
    };
    shown.update(|s| s.status = status);
}
