//! A Leptos app that pays an invoice with the vendor: one page, a server
//! function that mints a checkout token with `alternative-client`, one
//! island that pays with `checkout-sdk` (asking that server function again
//! whenever its token runs out), the reconcile after Pay, and the vendor's
//! webhook endpoint (`payments`).

mod island;
mod mint;
#[cfg(feature = "ssr")]
pub mod payments;

use leptos::prelude::*;

pub use mint::{checkout_token, reconcile, ApiUrl, MintError, Minted, Recorded};

/// The invoice this page pays. Your app: from the URL, of an invoice your
/// records say is the logged-in customer's.
pub const INVOICE: &str = "inv_1001";

/// The whole document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Islands: only the checkout is hydrated.
                <HydrationScripts options islands=true/>
                <title>"Pay an invoice"</title>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page: rendered on the server, which knows the vendor's (public) API
/// address and hands it to the island.
#[component]
pub fn App() -> impl IntoView {
    let api_url = use_context::<ApiUrl>().map(|url| url.0).unwrap_or_default();
    view! {
        <main>
            <h1>"Pay invoice " {INVOICE}</h1>
            <island::Checkout invoice_id=INVOICE.to_owned() api_url/>
        </main>
    }
}

/// The wasm's entry: hydrates the islands, nothing else.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
