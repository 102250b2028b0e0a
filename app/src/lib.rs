//! The merchant's Leptos app: the HTML shell, the routes, the pages and the
//! server functions they call.

pub mod api;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod money;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode, StaticSegment};

/// Where the site runs, as far as the pages care: provided as Leptos
/// context by the server.
#[derive(Clone, Copy, Debug, Default)]
pub struct Deployment {
    /// The checkout's developer panel (the token's lifetime, refreshes and
    /// their reasons): the sandbox environment only.
    pub developer_panel: bool,
}

/// Where the site's icon is (`server/src/icon.rs` answers it): named by
/// every page, so browsers do not guess `/favicon.ico`.
pub const ICON_PATH: &str = "/icon.svg";

/// The whole document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href=ICON_PATH/>
                <AutoReload options=options.clone()/>
                // The stylesheet's name carries its content hash (hash-files).
                <HashedStylesheet options=options.clone() id="leptos"/>
                // Islands: only the checkout component is hydrated; every
                // other page is plain HTML with forms and links.
                <HydrationScripts options islands=true/>
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
        // Each page names itself: "Log in — Demo Merchant", …
        <Title formatter=|page: String| format!("{page} — Demo Merchant")/>
        <Router>
            // The first Tab stop: past the header, straight to the page.
            // `rel="external"` leaves the jump (and the focus move) to the
            // browser instead of the router.
            <a class="skip-link" href="#main" rel="external">"Skip to content"</a>
            <pages::Header/>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! {
                    <Title text="Page not found"/>
                    <h1>"Page not found"</h1>
                    <p class="notice">"There is no page at this address. "<a href="/">"Your invoices"</a></p>
                }>
                    // Async: the server waits for the pages' data and sends
                    // whole HTML, readable without JavaScript (streamed
                    // Suspense needs a script to show what it resolved).
                    <Route path=StaticSegment("") view=pages::Home ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=pages::LoginPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/checkout/:invoice_id")
                        view=pages::CheckoutPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
