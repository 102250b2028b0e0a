//! The server: the vendor client from the environment, shared by every
//! request; the page; the server function. `cargo leptos serve` runs it.

use std::sync::Arc;

use alternative_client::{ClientSecret, VendorClient, VendorConfig};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use minimal_checkout::{shell, ApiUrl, App};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} must be set"));
    let config = VendorConfig::new(
        &var("ALTERNATIVE_API_URL")?,
        &var("ALTERNATIVE_CLIENT_ID")?,
        ClientSecret::new(var("ALTERNATIVE_CLIENT_SECRET")?),
    );
    // One client for the whole server: it holds the cached OAuth token and
    // the vendor's quota.
    let vendor = Arc::new(VendorClient::new(config)?);
    let api_url = ApiUrl(vendor.api_url().to_owned());

    let options = get_configuration(None)?.leptos_options;
    let addr = options.site_addr;
    let app = Router::new()
        .leptos_routes_with_context(
            &options,
            generate_route_list(App),
            move || {
                provide_context(vendor.clone());
                provide_context(api_url.clone());
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}
