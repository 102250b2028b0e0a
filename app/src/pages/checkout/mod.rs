//! `/checkout/:invoice_id`: the server reads the invoice and renders the
//! page; the checkout itself is an island, the one part of the site that is
//! hydrated (and so the only code in the wasm).
//!
//! In the browser the island connects a [`CheckoutClient`] whose
//! `on_access_token_expired` handler asks the merchant's server for a
//! checkout token (the first one too), and talks to the vendor with it:
//! saved payment methods, PDF link, payment — and the invoice only if the
//! server could not read it (one read per page open). The token lives in
//! the client, never in the HTML or in a signal. `?refresh=off` leaves the
//! handler out, to show `AccessTokenExpiredError`.

mod ended;
mod open;
mod pay;
mod state;
mod summary;
mod token;
mod token_view;

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use self::ended::CheckoutEnded;
use self::pay::PayForm;
use self::state::Shared;
use self::summary::Summary;
use self::token::{DeveloperPanel, TokenTrouble};
use self::token_view::TokenView;
use crate::api::{invoice_summary, vendor_api_url, InvoiceView};
use crate::Deployment;

/// The server's part: which invoice, whether to refresh, and the invoice as
/// the vendor has it — all handed to the island as its starting point.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let invoice_id = use_params_map()
        .read_untracked()
        .get("invoice_id")
        .unwrap_or_default();
    let refresh = use_query_map().read_untracked().get("refresh").as_deref() != Some("off");
    let developer = use_context::<Deployment>().is_some_and(|d| d.developer_panel);
    let summary = Resource::new(|| (), {
        let invoice_id = invoice_id.clone();
        move |_| invoice_summary(invoice_id.clone())
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let invoice_id = invoice_id.clone();
                Suspend::new(async move {
                    let (summary, server_error) = match summary.await {
                        Ok(summary) => (Some(summary), None),
                        Err(error) => (None, Some(error.to_string())),
                    };
                    let title = match &summary {
                        Some(s) => format!("Pay invoice {}", s.invoice_number),
                        None => "Pay invoice".to_owned(),
                    };
                    view! {
                        <Title text=title/>
                        <Checkout
                            invoice_id
                            api_url=vendor_api_url()
                            refresh
                            developer
                            summary
                            server_error
                        />
                    }
                })
            }}
        </Suspense>
    }
}

/// The island: everything on the page that needs JavaScript. Its props
/// cross from the server to the browser inside the HTML, so they hold
/// nothing secret (no token: the island mints its own).
#[island]
fn Checkout(
    invoice_id: String,
    /// The vendor API the checkout talks to (public: the browser calls it).
    api_url: String,
    refresh: bool,
    /// Whether to show the developer panel (the sandbox environment only).
    developer: bool,
    /// The invoice as the server read it: the island reads it again only
    /// if the server could not.
    summary: Option<InvoiceView>,
    /// The server's plain-language refusal (not logged in, not yours).
    server_error: Option<String>,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    let invoice_id = StoredValue::new(invoice_id);
    let shared = Shared::new(summary, server_error);
    let token = shared.token;
    Effect::new(move |_| {
        hydrated.set(true);
        // The remaining lifetime ticks in the developer panel.
        let interval = set_interval_with_handle(
            move || {
                if let Some(Some(client)) = shared.client.try_get_value() {
                    token.set(TokenView::from(&client.token_state()));
                }
            },
            Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(interval) = interval {
                interval.clear();
            }
        });
        spawn_local(open::open(
            shared,
            invoice_id.get_value(),
            api_url.clone(),
            refresh,
        ));
    });
    // The page's error, or why it has no token yet, or else the server's
    // (e.g. "please log in" without JavaScript).
    let error_text = move || {
        let Shared {
            error,
            server_error,
            ..
        } = shared;
        error
            .get()
            .or_else(|| token.with(TokenView::opening_trouble))
            .or_else(|| server_error.get())
            .unwrap_or_default()
    };
    view! {
        <section
            class="checkout"
            data-testid="checkout-root"
            data-hydrated=move || hydrated.get().to_string()
            data-token-refreshing=move || token.with(|t| t.refreshing).to_string()
        >
            <Summary invoice=shared.invoice pdf_url=shared.pdf_url token/>
            <PayForm shared invoice_id=invoice_id.get_value()/>
            <p class="error" role="alert" data-testid="checkout-error">{error_text}</p>
            <TokenTrouble shared/>
            <CheckoutEnded token invoice_id=invoice_id.get_value()/>
            {developer.then(|| view! { <DeveloperPanel token/> })}
        </section>
    }
}
