//! The server: settings from the environment (and `.env`), the vendor
//! client shared by every request, the security headers, the page, the
//! server functions and the vendor's webhook endpoint.
//! `cargo leptos serve` runs it.

use std::sync::Arc;

use alternative_client::webhook::{WebhookSecrets, MAX_EVENT_BYTES};
use alternative_client::{ClientSecret, VendorClient, VendorConfig};
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::Router;
use checkout_headers::BrowserPolicy;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use {{crate_name}}::payments::{self, Payments};
use {{crate_name}}::{shell, ApiUrl, App};

type Error = Box<dyn std::error::Error>;

/// The vendor's API for an environment with no `ALTERNATIVE_API_URL`.
fn vendor_url(environment: &str) -> Result<String, Error> {
    match (std::env::var("ALTERNATIVE_API_URL"), environment) {
        (Ok(url), _) => Ok(url),
        (Err(_), "demo") => Ok("https://public-api.demo.alternativepayments.io".to_owned()),
        (Err(_), "production") => Ok("https://public-api.alternativepayments.io".to_owned()),
        (Err(_), _) => Err("ALTERNATIVE_API_URL must be set in the sandbox environment".into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Variables the environment does not set may come from `.env`.
    dotenvy::dotenv().ok();
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} must be set"));
    let environment =
        std::env::var("ALTERNATIVE_ENVIRONMENT").unwrap_or_else(|_| "sandbox".to_owned());
    let config = VendorConfig::new(
        &vendor_url(&environment)?,
        &var("ALTERNATIVE_CLIENT_ID")?,
        ClientSecret::new(var("ALTERNATIVE_CLIENT_SECRET")?),
    );
    // One client for the whole server: it holds the cached OAuth token and
    // the vendor's quota.
    let vendor = Arc::new(VendorClient::new(config)?);
    let api_url = ApiUrl(vendor.api_url().to_owned());
    let payments = Arc::new(Payments::default());

    let options = get_configuration(None)?.leptos_options;
    let addr = options.site_addr;
    // The page may call the site and the vendor; HSTS once served over HTTPS.
    let mut policy = BrowserPolicy::new(&api_url.0, environment != "sandbox")?;
    if cfg!(debug_assertions) {
        policy = policy.with_live_reload(options.reload_port);
    }
    let pages = Router::new()
        .leptos_routes_with_context(
            &options,
            generate_route_list(App),
            {
                let payments = payments.clone();
                move || {
                    checkout_headers::provide_nonce();
                    provide_context(vendor.clone());
                    provide_context(api_url.clone());
                    provide_context(payments.clone());
                }
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        // The wasm, its script and the styles straight from disk: through
        // the fallback's file handler a file can take the status of a page
        // rendered beside it (a 500 answered for the wasm, and the checkout
        // never hydrates).
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(&options),
            leptos_axum::site_pkg_dir_service(&options),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            checkout_headers::provide_nonce,
            shell,
        ))
        .with_state(options);
    let app = pages
        .merge(webhooks(payments)?)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(policy),
            checkout_headers::set,
        ));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}

/// The vendor's webhook endpoint, with the secrets it signs with
/// (`MERCHANT_WEBHOOK_SECRETS`, comma-separated `whsec_…`). Without them,
/// none: payments are then recorded by the reconcile alone.
fn webhooks(payments: Arc<Payments>) -> Result<Router, Error> {
    let Ok(list) = std::env::var("MERCHANT_WEBHOOK_SECRETS") else {
        return Ok(Router::new());
    };
    let secrets =
        WebhookSecrets::parse(&list).map_err(|e| format!("MERCHANT_WEBHOOK_SECRETS: {e}"))?;
    let endpoint = payments::Endpoint {
        secrets: Arc::new(secrets),
        payments,
    };
    Ok(Router::new()
        .route("/webhooks/alternative", post(payments::receive))
        // Larger bodies are refused before they are read.
        .layer(DefaultBodyLimit::max(MAX_EVENT_BYTES))
        .with_state(endpoint))
}
