//! The island, the only code in the wasm: it connects the SDK with a handler
//! that calls the server function, reads the invoice, pays it, and has the
//! shop record the payment from the vendor's word.

use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{AccessToken, CheckoutClient, ExpiryHandler, Options, PaymentRequest};
use checkout_sdk::{RefreshError, StopReason};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mint::{checkout_token, reconcile, MintError, Recorded};

/// The client and the payment it will make: not `Send` (browser handles),
/// so kept on this thread, and dropped with the island (timers and all).
type Ready = StoredValue<Option<(Rc<CheckoutClient>, PaymentRequest)>, LocalStorage>;

#[island]
pub fn Checkout(invoice_id: String, api_url: String) -> impl IntoView {
    let status = RwSignal::new("Connecting…".to_owned());
    let refreshes = RwSignal::new(0);
    let ready: Ready = StoredValue::new_local(None);
    let hydrated = RwSignal::new(false);
    let invoice = invoice_id.clone();
    Effect::new(move |_| {
        hydrated.set(true);
        let (invoice_id, api_url) = (invoice_id.clone(), api_url.clone());
        spawn_local(open(invoice_id, api_url, status, refreshes, ready));
    });
    let pay = move |_| {
        let Some((client, request)) = ready.get_value() else {
            return;
        };
        let invoice_id = invoice.clone();
        spawn_local(async move {
            let paid = match client.pay(&request).await {
                Ok(paid) => format!("Paid: {} {} ({}).", paid.amount, paid.currency, paid.status),
                Err(e) => return status.set(e.to_string()),
            };
            // The page's word is not proof: the server asks the vendor.
            status.set(match reconcile(invoice_id).await {
                Ok(Some(Recorded::Paid { payment_id })) => {
                    format!("{paid} Recorded by the shop as {payment_id}.")
                }
                Ok(Some(Recorded::Mismatch { payment_id })) => format!(
                    "{paid} {payment_id} does not match the invoice: the shop will look into it."
                ),
                Ok(None) => format!("{paid} The shop will record it when the vendor confirms."),
                Err(e) => format!("{paid} The shop will record it later: {e}"),
            });
        });
    };
    view! {
        <section data-hydrated=move || hydrated.get().to_string()>
            <p role="status" data-testid="status">{status}</p>
            <p>"Token refreshes: " <span data-testid="refreshes">{refreshes}</span></p>
            <button type="button" data-testid="pay" on:click=pay>"Pay"</button>
        </section>
    }
}

/// The SDK's `on_access_token_expired` handler, and its opener: a token from
/// the server function, or why not — transient (the SDK tries again by
/// itself) or a stop, with its reason (the SDK stops, in every tab). The
/// context says why the SDK asks; this handler needs none of it.
fn mint(invoice_id: String) -> ExpiryHandler {
    Rc::new(move |_context| {
        let invoice_id = invoice_id.clone();
        Box::pin(async move {
            match checkout_token(invoice_id).await {
                Ok(minted) => Ok(AccessToken {
                    token: minted.token,
                    expires_in: Duration::from_secs(minted.expires_in),
                }),
                Err(e) if e.is_transient() => Err(RefreshError::transient(e.to_string())),
                Err(e @ MintError::NotYours) => {
                    Err(RefreshError::stop(StopReason::NotYours, e.to_string()))
                }
                Err(e) => Err(RefreshError::stop(StopReason::NotPayable, e.to_string())),
            }
        })
    })
}

/// Connects (the first token, retried by the SDK while the server or the
/// vendor is down), then reads the invoice and the customer's saved methods.
async fn open(
    invoice_id: String,
    api_url: String,
    status: RwSignal<String>,
    refreshes: RwSignal<u32>,
    ready: Ready,
) {
    let handler = mint(invoice_id);
    let mut options = Options::new(api_url);
    options.on_access_token_expired = Some(handler.clone());
    options.on_token_state = Some(Rc::new(move |state| refreshes.set(state.refresh_count)));
    let client = match CheckoutClient::connect(handler, options).await {
        Ok(client) => Rc::new(client),
        Err(e) => return status.set(e.to_string()),
    };
    match futures::join!(client.invoice(), client.payment_methods()) {
        (Ok(invoice), Ok(methods)) if !methods.is_empty() => {
            let request = PaymentRequest::new(methods[0].id.clone(), invoice.total.clone());
            ready.set_value(Some((client, request)));
            status.set(format!(
                "Invoice {} is {}: {} {}.",
                invoice.invoice_number, invoice.status, invoice.total, invoice.currency
            ));
        }
        (Err(e), _) | (_, Err(e)) => status.set(e.to_string()),
        _ => status.set("No saved payment method.".to_owned()),
    }
}
