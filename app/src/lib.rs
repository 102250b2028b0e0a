//! The merchant's Leptos app: the HTML shell, the routes, the checkout page
//! and the server functions it calls.

pub mod api;
mod checkout;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, StaticSegment};

/// The whole document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/checkout.css"/>
        <Title text="Checkout"/>
        <Router>
            <main>
                <Routes fallback=|| view! { <p class="notice">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=Home/>
                    <Route path=path!("/checkout/:invoice_id") view=checkout::CheckoutPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The demo invoices, until the invoice list of the logged-in user exists.
#[component]
fn Home() -> impl IntoView {
    view! {
        <h1>"Demo invoices"</h1>
        <ul class="invoice-links">
            <li><a href="/checkout/inv_1001">"INV-1001 — USD 1250.00"</a></li>
            <li><a href="/checkout/inv_1002">"INV-1002 — USD 310.40"</a></li>
            <li><a href="/checkout/inv_2001">"INV-2001 — EUR 89.99"</a></li>
        </ul>
    }
}
